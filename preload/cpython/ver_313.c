/* ver_313.c — CPython 3.13 internals for the hooks (see ver.h).
 *
 * Frames hold PyObject pointers: the operand stack lives in localsplus[co_nlocalsplus ...].
 * During a monitoring callback frame->stacktop is not maintained, so the depth of each
 * instruction's stack comes from a static flow analysis made when the code is decoded
 * (ver_313_depth.c).  The layout is the same in the free-threaded and the default build.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
/* CPython's internal headers are not -Wextra clean; the warnings are theirs, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "internal/pycore_frame.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#pragma GCC diagnostic pop

#include <stdlib.h>

#include "ver.h"
#include "ver_313_depth.h"

#if PY_VERSION_HEX < 0x030D0000 || PY_VERSION_HEX >= 0x030E0000
#error "ver_313.c is for CPython 3.13"
#endif

/* ---- frames ---------------------------------------------------------------------------------- */

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

PyObject *ngr_v_frame_local(ngr_vframe *vf, int i)
{
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    if (i < 0 || i >= _PyFrame_GetCode(f)->co_nlocalsplus)
        return NULL;
    return f->localsplus[i];
}

/* ---- instructions ---------------------------------------------------------------------------- */

#include "ver_decode.h"

int ngr_v_decode(PyCodeObject *co, struct ngr_insn **insns, int *n_units, void **vdata)
{
    struct ngr_raw_insn *raw;
    if (decode_code(co, insns, n_units, &raw) != 0)
        return -1;
    int16_t *depth = ngr_v313_depths(co, raw, *n_units);
    free(raw);
    if (!depth) {
        free(*insns);
        return -1;
    }
    *vdata = depth;
    return 0;
}

void ngr_v_free_vdata(void *vdata)
{
    free(vdata);
}

PyObject *ngr_v_peek(ngr_vframe *vf, const void *vdata, int unit, int n)
{
    _PyInterpreterFrame *f = (_PyInterpreterFrame *)vf;
    PyCodeObject *co = _PyFrame_GetCode(f);
    int d = vdata ? ((const int16_t *)vdata)[unit] : -1;
    int index = d - n;
    if (d < 0 || n < 1 || index < 0 || index >= co->co_stacksize)
        return NULL;
    return f->localsplus[co->co_nlocalsplus + index];
}

bool ngr_v_stack_known(const void *vdata, int unit, int n)
{
    return vdata && ((const int16_t *)vdata)[unit] >= n;
}

/* ---- objects --------------------------------------------------------------------------------- */

#include "ver_objects.h"

int ngr_v_module_needs_gil(PyObject *module)
{
#ifdef Py_GIL_DISABLED
    if (!PyModule_Check(module) || !PyModule_GetDef(module)) {
        PyErr_Clear();
        return 0; /* not an extension module */
    }
    return ((PyModuleObject *)module)->md_gil == Py_MOD_GIL_USED;
#else
    (void)module;
    return 0;
#endif
}

bool ngr_v_is_lazy_import(PyObject *v)
{
    (void)v;
    return false; /* lazy imports came with 3.15 */
}

bool ngr_v_has_lazy_imports(void)
{
    return false;
}

bool ngr_v_deque_copy_atomic(void)
{
    return false;
}
