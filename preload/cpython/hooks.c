/* hooks.c — ngr_hooks_init: the entry point libnogilrace.so calls once the interpreter is known.
 *
 * Order matters: tables first, then the dict watcher and the modules already
 * imported (their globals are state too), then sys.monitoring, then the synchronisation half.
 * Recording stops at the first atexit callback: after it, interpreter finalisation clears module
 * dicts, which is teardown, not program behaviour.
 */
#include "acc.h"
#include "sync.h"
#include "pystack.h"

NGR_HIDDEN _Atomic int ngr_acc_off;

static PyObject *at_exit(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    atomic_store(&ngr_acc_off, 1);
    ngr_stop();
    Py_RETURN_NONE;
}
static PyMethodDef at_exit_def = {"nogilrace_stop", at_exit, METH_NOARGS, NULL};

static void watch_loaded_modules(void)
{
    PyObject *mods = PyImport_GetModuleDict(); /* borrowed */
    PyObject *items = mods ? PyDict_Values(mods) : NULL;
    if (!items) {
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *m = PyList_GET_ITEM(items, i);
        if (PyModule_Check(m)) {
            PyObject *d = PyModule_GetDict(m);
            if (d)
                ngr_watch_module_dict(d);
        }
    }
    Py_DECREF(items);
    PyErr_Clear();
}

static int register_atexit(void)
{
    PyObject *mod = PyImport_ImportModule("atexit");
    PyObject *fn = PyCFunction_New(&at_exit_def, NULL);
    PyObject *r = mod && fn ? PyObject_CallMethod(mod, "register", "O", fn) : NULL;
    Py_XDECREF(mod);
    Py_XDECREF(fn);
    if (!r) {
        PyErr_Clear();
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

__attribute__((visibility("default"))) int ngr_hooks_init(void)
{
    const char *hooks = getenv("NOGILRACE_HOOKS");
    if (hooks && hooks[0] == '0')
        return 0;
    if (ngr_codeinfo_init() || ngr_vars_init() || ngr_classify_init() || ngr_shared_init() ||
        ngr_watch_init()) {
        atomic_store(&ngr_acc_off, 1); /* whatever got installed stays inert */
        ngr_log(0, "cannot set up the CPython hooks (tables); tracing pthread events only");
        return -1;
    }
    watch_loaded_modules();
    if (register_atexit() || ngr_monitor_init()) {
        atomic_store(&ngr_acc_off, 1);
        ngr_log(0, "cannot register with sys.monitoring; tracing pthread events only");
        return -1;
    }
    ngr_set_stack_provider(ngr_py_stack_id);
    if (ngr_sync_init() != 0)
        ngr_log(0, "cannot hook Python locks; lock events will be missing");
    int ngr_pymodule_init(void); /* pymodule.c: `_nogilrace`, last, so it exists only when tracing */
    if (ngr_pymodule_init() != 0)
        ngr_log(0, "cannot create the _nogilrace module; tests cannot be named in the report");
    return 0;
}
