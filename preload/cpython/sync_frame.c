/* sync_frame.c — the innermost Python frame's code object and `self`, through the version layer
 * (no frame object is materialised: PyEval_GetFrame would allocate one). */
#include "sync_internal.h"
#include "ver.h"

PyObject *ngr_sync_cur_code(void)
{
    ngr_vframe *f = ngr_v_current_frame();
    return f ? (PyObject *)ngr_v_frame_code(f) : NULL;
}

PyObject *ngr_sync_cur_self(void)
{
    ngr_vframe *f = ngr_v_current_frame();
    PyCodeObject *co = f ? ngr_v_frame_code(f) : NULL;
    if (!co || co->co_argcount < 1)
        return NULL;
    return ngr_v_frame_local(f, 0);
}
