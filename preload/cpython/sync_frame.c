/* sync_frame.c — the innermost Python frame's code object and `self`, without materialising a
 * frame object (PyEval_GetFrame allocates one).  Version-specific: 3.13 reads the thread state's
 * _PyInterpreterFrame; other versions fall back to the public frame API. */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>

#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
#include "internal/pycore_frame.h"
#define NGR_SYNC_FRAME_313 1
#endif

#include "sync_internal.h"

#ifdef NGR_SYNC_FRAME_313
/* Skip shim frames owned by the C stack (entry frames of C -> Python calls): they have no code. */
static _PyInterpreterFrame *cur_frame(void)
{
    PyThreadState *ts = PyThreadState_GetUnchecked();    /* public: no internal TLS symbol */
    _PyInterpreterFrame *f = ts ? ts->current_frame : NULL;
    while (f && f->owner == FRAME_OWNED_BY_CSTACK)
        f = f->previous;
    return f;
}

PyObject *ngr_sync_cur_code(void)
{
    _PyInterpreterFrame *f = cur_frame();
    return f && PyCode_Check(f->f_executable) ? f->f_executable : NULL;
}

PyObject *ngr_sync_cur_self(void)
{
    _PyInterpreterFrame *f = cur_frame();
    if (!f || !PyCode_Check(f->f_executable) || ((PyCodeObject *)f->f_executable)->co_argcount < 1)
        return NULL;
    return f->localsplus[0];
}
#else
PyObject *ngr_sync_cur_code(void)
{
    PyFrameObject *f = PyEval_GetFrame();
    if (!f)
        return NULL;
    PyCodeObject *code = PyFrame_GetCode(f);
    Py_DECREF(code);                /* the frame keeps it alive */
    return (PyObject *)code;
}

PyObject *ngr_sync_cur_self(void)
{
    PyFrameObject *f = PyEval_GetFrame();
    if (!f)
        return NULL;
    PyObject *self = PyFrame_GetVarString(f, "self");
    if (!self) {
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(self);                /* the frame keeps it alive */
    return self;
}
#endif
