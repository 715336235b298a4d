"""interp.py — the one interpreter an end-to-end test runs against.

scripts/check runs every test once per interpreter (3.13t, 3.13, those in NOGILRACE_PYTHONS, the
sid chroot's 3.14 and 3.15) and says which in the environment: NGR_PYTHON, NGR_PY_LABEL,
NGR_PY_VERSION, NGR_PY_TAG, NGR_PY_FREE_THREADED.  A test started by hand with only NGR_PYTHON set
gets the same facts from the interpreter itself.  Imported by the t_*.py tests and their helper
modules (``from interp import ...``); not a test itself.
"""
import os
import subprocess

PYTHON = os.environ["NGR_PYTHON"]
_facts = {}


def _ask():
    if not _facts:
        out = subprocess.run([PYTHON, "-c", "import sys; v = sys.version_info; "
                              "print('%d.%d cp%d%d%s %d' % (v[0], v[1], v[0], v[1], sys.abiflags, "
                              "'t' in sys.abiflags))"],
                             capture_output=True, text=True, check=True).stdout.split()
        _facts.update(version=out[0], tag=out[1], free_threaded=out[2] == "1")
    return _facts


def version():
    """"3.13", "3.14" ..."""
    return os.environ.get("NGR_PY_VERSION") or _ask()["version"]


def tag():
    """The hooks library's tag for this interpreter: cp313t, cp313 ... (nogilrace-<tag>.so)."""
    return os.environ.get("NGR_PY_TAG") or _ask()["tag"]


def free_threaded():
    """True for a free-threaded build (whether or not its GIL was turned back on)."""
    ft = os.environ.get("NGR_PY_FREE_THREADED")
    return ft == "1" if ft in ("0", "1") else _ask()["free_threaded"]


def label():
    """How scripts/check names this interpreter: 3.13t, 3.13, sid-3.14 ..."""
    return os.environ.get("NGR_PY_LABEL") or version() + ("t" if free_threaded() else "")


def interpreters():
    """[(label, python)] with the one interpreter of this run.  A list, so that tests written when
    each test looped over the free-threaded and the GIL build (``for label, py in
    interpreters():``) keep working: scripts/check now runs them once per interpreter."""
    return [(label(), PYTHON)]
