/* ver_313.c — CPython 3.13 internals for the access hooks (see ver.h).
 *
 * In 3.13 a frame's operand stack lives in localsplus[co_nlocalsplus ...]; during a monitoring
 * callback frame->stacktop is not maintained, which is why callers pass the depth they computed
 * statically (codeinfo.c).  The layout is the same in the free-threaded and the default build.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
/* CPython's internal headers are not -Wextra clean; the warnings are theirs, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "internal/pycore_frame.h"
#include "internal/pycore_dict.h"
#pragma GCC diagnostic pop

#include "ver.h"

#if PY_VERSION_HEX < 0x030D0000 || PY_VERSION_HEX >= 0x030E0000
#error "ver_313.c is for CPython 3.13"
#endif

static _PyInterpreterFrame *skip_incomplete(_PyInterpreterFrame *f)
{
    while (f && (f->owner == FRAME_OWNED_BY_CSTACK || !PyCode_Check(f->f_executable) ||
                 _PyFrame_IsIncomplete(f)))
        f = f->previous;
    return f;
}

ngr_vframe *ngr_v_current_frame(void)
{
    PyThreadState *ts = PyThreadState_GetUnchecked();
    if (!ts)
        return NULL;
    return (ngr_vframe *)skip_incomplete(ts->current_frame);
}

ngr_vframe *ngr_v_frame_back(ngr_vframe *vf)
{
    return (ngr_vframe *)skip_incomplete(((_PyInterpreterFrame *)vf)->previous);
}

PyCodeObject *ngr_v_frame_code(ngr_vframe *vf)
{
    PyObject *c = ((_PyInterpreterFrame *)vf)->f_executable;
    return PyCode_Check(c) ? (PyCodeObject *)c : NULL;
}

int ngr_v_frame_offset(ngr_vframe *vf)
{
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    return (int)(f->instr_ptr - _PyCode_CODE(_PyFrame_GetCode(f))) * (int)sizeof(_Py_CODEUNIT);
}

PyObject *ngr_v_frame_globals(ngr_vframe *vf)
{
    return ((_PyInterpreterFrame *)vf)->f_globals;
}

PyObject *ngr_v_frame_stack(ngr_vframe *vf, int index)
{
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    PyCodeObject *co = _PyFrame_GetCode(f);
    if (index < 0 || index >= co->co_stacksize)
        return NULL;
    return f->localsplus[co->co_nlocalsplus + index];
}

PyObject *ngr_v_frame_local(ngr_vframe *vf, int i)
{
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    if (i < 0 || i >= _PyFrame_GetCode(f)->co_nlocalsplus)
        return NULL;
    return f->localsplus[i];
}

PyObject *ngr_v_dictview_dict(PyObject *view)
{
    if (!PyDictKeys_Check(view) && !PyDictValues_Check(view) && !PyDictItems_Check(view))
        return NULL;
    return (PyObject *)((_PyDictViewObject *)view)->dv_dict;
}

PyObject *ngr_v_dict_get_str(PyObject *dict, PyObject *name, int *unsafe)
{
    int dummy;
    if (!unsafe)
        unsafe = &dummy;
    *unsafe = 0;
    if (!dict || !PyDict_Check(dict) || !name || !PyUnicode_CheckExact(name))
        return NULL;
    /* A str-only keys table compares keys by identity and unicode equality only.  A concurrent
     * insertion of a non-str key replaces ma_keys; reading the pointer once keeps us on the table
     * we checked (the lookup itself goes through the dict and may see the new table: a window
     * accepted for a race the program itself started). */
    PyDictKeysObject *keys = FT_ATOMIC_LOAD_PTR_ACQUIRE(((PyDictObject *)dict)->ma_keys);
    if (!keys || !DK_IS_UNICODE(keys)) {
        *unsafe = 1;
        return NULL;
    }
    PyObject *v = PyDict_GetItemWithError(dict, name);
    if (!v)
        PyErr_Clear();
    return v;
}

PyObject *ngr_v_dict_get_cstr(PyObject *dict, const char *name)
{
    PyObject *s = PyUnicode_InternFromString(name);
    if (!s) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *v = ngr_v_dict_get_str(dict, s, NULL);
    Py_DECREF(s);
    return v;
}
