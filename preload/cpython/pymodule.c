/* pymodule.c — `_nogilrace`, the module Python code of a traced process talks to the tracer with.
 *
 * ngr_hooks_init puts it into sys.modules once the hooks are in place, so `import _nogilrace`
 * succeeds exactly in processes whose Python accesses are being traced: the pytest plugin asks it
 * whether it must re-execute pytest under the shim, and marks each test's setup, call and teardown
 * with it (NGR_OP_MARK, docs/trace-format.md).  It is built into the hooks library rather than
 * shipped as an extension module because it must come from the very library doing the tracing:
 * one that imports in an untraced process would say nothing true.
 *
 *   _nogilrace.tracing() -> bool      this process writes a trace with its Python accesses in it
 *   _nogilrace.mark(label, phase, begin)
 *                                     begin (begin true) or end a span of the calling thread:
 *                                     label a str (a test id), phase 0 none, 1 setup, 2 call,
 *                                     3 teardown (_nogilrace.SETUP, CALL, TEARDOWN)
 */
#include <Python.h>

#include "ngr_api.h"
#include "trace_format.h"

#define NGR_HIDDEN __attribute__((visibility("hidden")))

static PyObject *py_tracing(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(ngr_tracing());
}

static PyObject *py_mark(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *label;
    int phase, begin;
    if (!PyArg_ParseTuple(args, "Uip:mark", &label, &phase, &begin))
        return NULL;
    if (phase < NGR_MARK_NONE || phase > NGR_MARK_TEARDOWN) {
        PyErr_Format(PyExc_ValueError, "mark: phase must be 0 to 3, not %d", phase);
        return NULL;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(label, &len);
    PyObject *escaped = NULL;
    if (!s) { /* lone surrogates (a test id from a file name that is not UTF-8): \xNN, as elsewhere */
        PyErr_Clear();
        escaped = PyUnicode_AsEncodedString(label, "utf-8", "backslashreplace");
        if (!escaped)
            return NULL;
        s = PyBytes_AS_STRING(escaped);
        len = PyBytes_GET_SIZE(escaped);
    }
    ngr_emit_mark(s, (size_t)len, (unsigned)phase, begin != 0);
    Py_XDECREF(escaped);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"tracing", py_tracing, METH_NOARGS, "tracing() -> bool: this process's Python accesses are being traced."},
    {"mark", py_mark, METH_VARARGS,
     "mark(label, phase, begin): begin or end the span `label` (a test id) of the calling thread;\n"
     "phase: 0 none, 1 setup, 2 call, 3 teardown.  Threads started inside a span inherit it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_nogilrace",
    "The nogilrace tracer, present only in a traced process (docs/trace-format.md, MARK).", -1, methods,
    NULL, NULL, NULL, NULL,
};

/* Creates _nogilrace and puts it into sys.modules.  0, or -1 with no exception set. */
NGR_HIDDEN int ngr_pymodule_init(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        goto fail;
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED); /* no state: safe without the GIL */
#endif
    if (PyModule_AddIntConstant(m, "NONE", NGR_MARK_NONE) || PyModule_AddIntConstant(m, "SETUP", NGR_MARK_SETUP) ||
        PyModule_AddIntConstant(m, "CALL", NGR_MARK_CALL) ||
        PyModule_AddIntConstant(m, "TEARDOWN", NGR_MARK_TEARDOWN) ||
        PyDict_SetItemString(PyImport_GetModuleDict(), "_nogilrace", m)) {
        Py_DECREF(m);
        goto fail;
    }
    Py_DECREF(m);
    return 0;
fail:
    PyErr_Clear();
    return -1;
}
