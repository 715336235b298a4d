"""nogilrace_build — the build backend (PEP 517) behind `pip install <clean clone or sdist>`.

The top-level Makefile stays the one build: build_wheel runs it for the interpreter pip runs on
(PYTHON=sys.executable, into a private build directory, so the source tree stays clean) and packs
what it made — the shim libnogilrace.so, the hooks library nogilrace-<tag>.so for that interpreter
and the `nogilrace` analyzer — with the Python package in python/nogilrace, whose entry points give
the venv its `nogilrace` command and the pytest plugin.  The wheel is tagged for that interpreter
only (cp313-cp313t-linux_x86_64 ...): the hooks library is built against its headers.

What the build needs is checked first and named in one line when missing: make, a C compiler,
uthash.h (Debian uthash-dev), the interpreter's headers with their internal/ directory (Debian
python3.X-dev), and a hooks port for its version (scripts/hooks-port).  As root on Debian,
scripts/install-deps installs the Debian packages first, as `make` does.  Nothing is fetched from
a package index: requires = [].

Only the standard library is used; the metadata comes from pyproject.toml's [project] table.
"""
import base64
import hashlib
import io
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE_DIR = os.path.join(ROOT, "python", "nogilrace")
NATIVE = "_native"  # nogilrace/_native/: the shim, the hooks library, the analyzer
SKIP_DIRS = {".git", "build", "dist", "__pycache__"}


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _dist_name():
    p = _project()
    return "%s-%s" % (p["name"].replace("-", "_"), p["version"])


def _fail(msg):
    """The one line pip shows when the build cannot go on."""
    print("nogilrace: cannot build: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# ---- metadata --------------------------------------------------------------------------------------

def _metadata():
    p = _project()
    lines = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + p["version"],
             "Summary: " + p.get("description", ""), "Requires-Python: " + p.get("requires-python", "")]
    lines += ["Classifier: " + c for c in p.get("classifiers", [])]
    body = ""
    readme = p.get("readme")
    if readme:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _entry_points():
    p = _project()
    out = ["[console_scripts]"] + ["%s = %s" % kv for kv in p.get("scripts", {}).items()] + [""]
    for group, eps in p.get("entry-points", {}).items():
        out += ["[%s]" % group] + ["%s = %s" % kv for kv in eps.items()] + [""]
    return "\n".join(out)


def _tag():
    v = sys.version_info
    interp = "cp%d%d" % (v[0], v[1])
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "%s-%s%s-%s" % (interp, interp, sys.abiflags, plat)


def _wheel_file():
    return ("Wheel-Version: 1.0\nGenerator: nogilrace_build\nRoot-Is-Purelib: false\nTag: %s\n" % _tag())


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = _dist_name() + ".dist-info"
    d = os.path.join(metadata_directory, info)
    os.makedirs(d, exist_ok=True)
    for name, text in (("METADATA", _metadata()), ("entry_points.txt", _entry_points()),
                       ("WHEEL", _wheel_file())):
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(text)
    return info


# ---- what the build needs ----------------------------------------------------------------------------

def _python_headers_package(include):
    """How to get the headers at include: Debian's package for a Debian interpreter."""
    base = os.path.basename(include.rstrip("/"))  # python3.14, python3.13t
    if include.startswith("/usr/include/") and base.startswith("python3"):
        return "Debian package %s-dev" % base, "%s-dev" % base
    return "the development headers of this Python (make install of its source installs them)", None


def _compiler():
    cc = shlex.split(os.environ.get("CC") or "gcc")
    return cc


# The headers the build includes from outside the tree, and the Debian package of each.
HEADERS = (("stdio.h", "libc6-dev"), ("pthread.h", "libc6-dev"), ("uthash.h", "uthash-dev"))


def _missing_headers(cc, tmp):
    """Headers the build includes that the compiler cannot find: [(header, debian package)]; each
    probed on its own, so that every missing one is named."""
    missing = []
    for header, pkg in HEADERS:
        probe = os.path.join(tmp, "probe.c")
        with open(probe, "w") as f:
            f.write("#include <%s>\nint main(void) { return 0; }\n" % header)
        r = subprocess.run(cc + ["-E", "-o", os.devnull, probe], capture_output=True, text=True)
        if r.returncode != 0:
            if header not in r.stderr:  # the compiler itself fails: say how
                last = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
                return [("a working C compiler (`%s`: %s)" % (" ".join(cc), last), None)]
            missing.append((header, pkg))
    return missing


def _check(tmp):
    """Installs (as root, on Debian) and then checks what the build needs; one line if anything is
    missing.  Returns the hooks-port line "TAG XY X.Y FT INCLUDE" of this interpreter."""
    if os.geteuid() == 0 and shutil.which("dpkg-query") and shutil.which("apt-get"):
        r = subprocess.run([os.path.join(ROOT, "scripts", "install-deps"), "core"], capture_output=True, text=True)
        if r.returncode != 0:
            _fail((r.stderr.strip().splitlines() or ["scripts/install-deps core failed"])[-1])
    if not shutil.which("make"):
        _fail("`make` not found (Debian package make)")
    cc = _compiler()
    if not shutil.which(cc[0]):
        _fail("no C compiler: `%s` not found (Debian package gcc; or set CC)" % cc[0])
    r = subprocess.run([os.path.join(ROOT, "scripts", "hooks-port"), sys.executable], capture_output=True, text=True)
    if r.returncode != 0:
        _fail((r.stderr.strip().splitlines() or ["scripts/hooks-port failed"])[-1].removeprefix("nogilrace: "))
    port = r.stdout.strip()
    include = port.split(None, 4)[4]
    missing = [(h, pkg and "Debian package " + pkg, pkg) for h, pkg in _missing_headers(cc, tmp)]
    if not os.path.exists(os.path.join(include, "Python.h")) or not os.path.isdir(os.path.join(include, "internal")):
        how, pkg = _python_headers_package(include)
        what = "Python.h" if not os.path.exists(os.path.join(include, "Python.h")) else "internal/"
        missing.append(("%s of %s in %s" % (what, sys.executable, include), how, pkg))
    if missing:
        pkgs = [m[2] for m in missing if m[2]]
        _fail("missing " + ", ".join("%s (%s)" % (m[0], m[1]) if m[1] else m[0] for m in missing) +
              ("; as root: apt-get install " + " ".join(dict.fromkeys(pkgs)) if pkgs else ""))
    return port


def _make(build, port):
    """Runs the Makefile for this interpreter into build; the log is shown only when it fails."""
    jobs = max(1, min(4, os.cpu_count() or 1))
    cmd = ["make", "-C", ROOT, "-j%d" % jobs, "--no-print-directory", "BUILD=" + build, "PYTHON=" + sys.executable,
           "DEPS=", "preload", "analyzer", "hooks"]
    log = os.path.join(build, "build.log")
    os.makedirs(build, exist_ok=True)
    env = dict(os.environ)
    for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # pip may run inside someone's make
        env.pop(v, None)
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        with open(log, errors="replace") as f:
            tail = f.read().splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        _fail("make failed (exit %d; the end of its output is above)" % r.returncode)
    tag = port.split()[0]
    products = ["nogilrace", "libnogilrace.so", "nogilrace-%s.so" % tag]
    for p in products:
        if not os.path.exists(os.path.join(build, p)):
            _fail("make did not produce %s" % p)
    return products


# ---- the wheel ---------------------------------------------------------------------------------------

class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.record = []

    def add(self, arcname, data, mode=0o644):
        zi = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        zi.external_attr = (0o100000 | mode) << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(zi, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.record.append("%s,sha256=%s,%d" % (arcname, digest, len(data)))

    def close(self, record_name):
        self.record.append(record_name + ",,")
        self.zip.writestr(zipfile.ZipInfo(record_name, date_time=(2020, 1, 1, 0, 0, 0)),
                          "\n".join(self.record) + "\n")
        self.zip.close()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = _dist_name()
    wheel_name = "%s-%s.whl" % (name, _tag())
    tmp = tempfile.mkdtemp(prefix="nogilrace-build-")
    try:
        port = _check(tmp)
        build = os.path.join(tmp, "build")
        products = _make(build, port)
        w = _Wheel(os.path.join(wheel_directory, wheel_name))
        for fn in sorted(os.listdir(PACKAGE_DIR)):
            if fn.endswith(".py"):
                with open(os.path.join(PACKAGE_DIR, fn), "rb") as f:
                    w.add("nogilrace/" + fn, f.read())
        for p in products:
            with open(os.path.join(build, p), "rb") as f:
                w.add("nogilrace/%s/%s" % (NATIVE, p), f.read(), 0o755)
        info = name + ".dist-info"
        w.add(info + "/METADATA", _metadata().encode())
        w.add(info + "/entry_points.txt", _entry_points().encode())
        w.add(info + "/WHEEL", _wheel_file().encode())
        w.close(info + "/RECORD")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return wheel_name


# ---- the sdist ----------------------------------------------------------------------------------------

def _source_files():
    """The tracked files of a git checkout; in an unpacked sdist, every file but build products."""
    if os.path.exists(os.path.join(ROOT, ".git")) and shutil.which("git"):
        r = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached"], capture_output=True)
        if r.returncode == 0:
            return sorted(p for p in r.stdout.decode("utf-8", "surrogateescape").split("\0")
                          if p and os.path.isfile(os.path.join(ROOT, p)))
    out = []
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
        for fn in sorted(files):
            if not fn.endswith((".ngrtrace", ".pyc")) and fn != "PKG-INFO":
                out.append(os.path.relpath(os.path.join(d, fn), ROOT))
    return out


def build_sdist(sdist_directory, config_settings=None):
    name = _dist_name()
    path = os.path.join(sdist_directory, name + ".tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel in _source_files():
            tar.add(os.path.join(ROOT, rel), arcname="%s/%s" % (name, rel), recursive=False)
        data = _metadata().encode()
        ti = tarfile.TarInfo("%s/PKG-INFO" % name)
        ti.size = len(data)
        ti.mode = 0o644
        tar.addfile(ti, io.BytesIO(data))
    return os.path.basename(path)
