/* ver_stackref_frames.h — frames of the CPython versions whose frames hold tagged stack
 * references (_PyStackRef) and keep their stack pointer during monitoring callbacks: 3.14, 3.15.
 *
 * Included by one ver_<XY>.c (one per build), after the interpreter's internal frame headers:
 * these are the ver.h frame functions themselves, not declarations.
 *
 * What differs from 3.13:
 *   - f_executable, localsplus[] and the operand stack hold _PyStackRef values.  In free-threaded
 *     builds a reference is tagged (its low bit marks a deferred reference count); in both builds
 *     an exception handler's saved instruction index is a tagged int, not an object.  Every value
 *     read goes through PyStackRef_AsPyObjectBorrow after a null/tagged-int check.
 *   - INSTRUMENTED_INSTRUCTION saves the stack pointer before the callback, so the operand stack
 *     is read from the top (stackpointer[-n]); no static depth analysis is needed.
 *   - Free-threaded builds run a per-thread copy of the bytecode (thread-local bytecode):
 *     instruction offsets are taken relative to the frame's own copy (_PyFrame_GetBytecode).
 */
#ifndef NGR_CPYTHON_VER_STACKREF_FRAMES_H
#define NGR_CPYTHON_VER_STACKREF_FRAMES_H

/* A borrowed object, or NULL for a null reference or a tagged int. */
static PyObject *ref_object(_PyStackRef r)
{
    return PyStackRef_IsNullOrInt(r) ? NULL : PyStackRef_AsPyObjectBorrow(r);
}

/* Frames of Python code that has started running: not the interpreter's own entry frames, not a
 * frame still setting up (before its RESUME). */
static bool python_frame(_PyInterpreterFrame *f)
{
    if (f->owner >= FRAME_OWNED_BY_INTERPRETER)
        return false;
    PyObject *ex = ref_object(f->f_executable);
    return ex && PyCode_Check(ex) && !_PyFrame_IsIncomplete(f);
}

static _PyInterpreterFrame *skip_incomplete(_PyInterpreterFrame *f)
{
    while (f && !python_frame(f))
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
    PyObject *c = ref_object(((_PyInterpreterFrame *)vf)->f_executable);
    return c && PyCode_Check(c) ? (PyCodeObject *)c : NULL;
}

int ngr_v_frame_offset(ngr_vframe *vf)
{
    return _PyInterpreterFrame_LASTI((_PyInterpreterFrame *)vf) * (int)sizeof(_Py_CODEUNIT);
}

PyObject *ngr_v_frame_globals(ngr_vframe *vf)
{
    return ((_PyInterpreterFrame *)vf)->f_globals;
}

PyObject *ngr_v_frame_local(ngr_vframe *vf, int i)
{
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    if (i < 0 || i >= _PyFrame_GetCode(f)->co_nlocalsplus)
        return NULL;
    return ref_object(f->localsplus[i]);
}

PyObject *ngr_v_peek(ngr_vframe *vf, const void *vdata, int unit, int n)
{
    (void)vdata;
    (void)unit;
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    _PyStackRef *base = _PyFrame_Stackbase(f), *sp = f->stackpointer;
    /* A stack pointer outside the frame's stack would be a frame we do not understand: read
     * nothing rather than a wild slot. */
    if (!sp || n < 1 || sp - base < n || sp - base > _PyFrame_GetCode(f)->co_stacksize)
        return NULL;
    return ref_object(sp[-n]);
}

bool ngr_v_stack_known(const void *vdata, int unit, int n)
{
    (void)vdata;
    (void)unit;
    return n >= 1;
}

void ngr_v_free_vdata(void *vdata)
{
    (void)vdata;
}

#endif
