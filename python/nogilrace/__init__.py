"""nogilrace — finds data races in Python programs on free-threaded (no-GIL) CPython.

Installed with pip, the package carries what `make` builds, for the interpreter it was installed
into (_native/): the shim libnogilrace.so that is preloaded into traced programs, the hooks library
nogilrace-<tag>.so it loads into that interpreter, and the `nogilrace` analyzer, which the
`nogilrace` command of the environment runs (__main__.py).  The pytest plugin is pytest_plugin.py
(`pytest --nogilrace`).  The README has the rest.
"""
import os

__version__ = "0.1.0"

NATIVE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_native")


def analyzer():
    """Path of the `nogilrace` analyzer binary."""
    return os.path.join(NATIVE_DIR, "nogilrace")


def preload():
    """Path of libnogilrace.so, the library to put in LD_PRELOAD."""
    return os.path.join(NATIVE_DIR, "libnogilrace.so")
