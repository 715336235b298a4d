"""t_sync_gil.py — an extension module that turns the GIL back on (free-threaded build) is
recorded with its name; one declaring Py_MOD_GIL_NOT_USED, or PYTHON_GIL=0, records nothing.
The extension modules are built here with the interpreter's headers."""
import os
import subprocess
import sys

from t_sync_helpers import Run, check, ext_suffix

SRC = r'''
#include <Python.h>
static PyObject *hello(PyObject *m, PyObject *a) { (void)m; (void)a; return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"hello", hello, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
#ifdef NOT_USED
static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
#else
static PyModuleDef_Slot slots[] = {{0, NULL}};
#endif
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, MODNAME, NULL, 0, methods, slots,
                                 NULL, NULL, NULL};
PyMODINIT_FUNC INITFUNC(void) { return PyModuleDef_Init(&def); }
'''

PROG = '''\
import sys, threading
import %s as mod
def f():
    mod.hello()
t = threading.Thread(target=f); t.start(); t.join()
print(mod.hello(), sys._is_gil_enabled())
'''


def build(py, name, not_used):
    inc = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('include'))"],
                         capture_output=True, text=True).stdout.strip()
    d = os.path.join(os.environ.get("NGR_TMP", "."), "ext")
    os.makedirs(d, exist_ok=True)
    c = os.path.join(d, name + ".c")
    with open(c, "w") as f:
        f.write(SRC)
    out = os.path.join(d, name + ext_suffix(py))
    cmd = ["gcc", "-shared", "-fPIC", "-I" + inc, '-DMODNAME="%s"' % name,
           "-DINITFUNC=PyInit_" + name, c, "-o", out]
    if not_used:
        cmd.insert(1, "-DNOT_USED")
    r = subprocess.run(cmd, capture_output=True, text=True)
    check(r.returncode == 0, "building %s: %s" % (name, r.stderr))
    return d


def main():
    py = os.environ["NGR_PYTHON"]
    free = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_config_var("
                           "'Py_GIL_DISABLED'))"], capture_output=True, text=True).stdout.strip()
    if free != "1":
        print("skip: NGR_PYTHON is not a free-threaded build")
        sys.exit(77)
    d = build(py, "ngr_needs_gil", False)
    build(py, "ngr_no_gil", True)
    env = {"PYTHONPATH": d}

    r = Run(py, "gilprog", PROG % "ngr_needs_gil", env=env, label="needs")
    r.check_unchanged()
    check(r.proc.stdout == "42 True\n", "output %r %r" % (r.proc.stdout, r.proc.stderr[-1500:]))
    gil = r.of("gil")
    check(gil == [{"type": "gil", "enabled": True, "module": "ngr_needs_gil"}],
          "one GIL record naming ngr_needs_gil expected, got %s" % gil)
    check(r.of("process")[0]["gil_enabled"] is False, "the GIL was off at start")

    r = Run(py, "gilprog", PROG % "ngr_no_gil", env=env, label="free")
    r.check_unchanged()
    check(r.proc.stdout == "42 False\n", "output %r" % r.proc.stdout)
    check(not r.of("gil"), "no GIL record expected: %s" % r.of("gil"))

    env["PYTHON_GIL"] = "0"
    r = Run(py, "gilprog", PROG % "ngr_needs_gil", env=env, label="forced")
    r.check_unchanged()
    check(r.proc.stdout == "42 False\n", "output %r" % r.proc.stdout)
    check(not r.of("gil"), "PYTHON_GIL=0: no GIL record expected: %s" % r.of("gil"))
    print("ok")


main()
