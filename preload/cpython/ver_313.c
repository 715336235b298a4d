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
#include "opcode_ids.h"
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

/* The kind of one deoptimised instruction.  `next` is the unit after it (caches included). */
static uint8_t kind_of(int op, int32_t *arg)
{
    switch (op) {
    case LOAD_GLOBAL: *arg >>= 1; return NGR_I_LOAD_GLOBAL;
    case LOAD_ATTR: {
        bool method = *arg & 1;
        *arg >>= 1;
        return method ? NGR_I_LOAD_METHOD : NGR_I_LOAD_ATTR;
    }
    case STORE_ATTR: return NGR_I_STORE_ATTR;
    case DELETE_ATTR: return NGR_I_DELETE_ATTR;
    case BINARY_SUBSCR: return NGR_I_SUBSCR;
    case STORE_SUBSCR: return NGR_I_STORE_SUBSCR;
    case DELETE_SUBSCR: return NGR_I_DELETE_SUBSCR;
    case CONTAINS_OP: return NGR_I_CONTAINS;
    case GET_ITER: return NGR_I_GET_ITER;
    case TO_BOOL: return NGR_I_TO_BOOL;
    case CALL: return NGR_I_CALL;
    case STORE_GLOBAL: return NGR_I_STORE_GLOBAL;
    case DELETE_GLOBAL: return NGR_I_DELETE_GLOBAL;
    default: return NGR_I_NONE;
    }
}

int ngr_v_decode(PyCodeObject *co, struct ngr_insn **insns, int *n_units, void **vdata)
{
    PyObject *bytes = PyCode_GetCode(co); /* deoptimised: base opcodes only */
    if (!bytes || !PyBytes_Check(bytes)) {
        Py_XDECREF(bytes);
        PyErr_Clear();
        return -1;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
    int n = (int)(PyBytes_GET_SIZE(bytes) / 2);
    struct ngr_insn *in = calloc((size_t)n + 1, sizeof *in);
    uint8_t *op = calloc((size_t)n + 1, 1);
    int32_t *arg = calloc((size_t)n + 1, sizeof *arg);
    if (!in || !op || !arg)
        goto fail;
    int ext = 0;
    for (int i = 0; i < n;) {
        int o = b[2 * i];
        int32_t a = (ext << 8) | b[2 * i + 1];
        op[i] = (uint8_t)o;
        arg[i] = a;
        if (o == EXTENDED_ARG) {
            ext = a;
            i++;
            continue;
        }
        ext = 0;
        in[i].kind = kind_of(o, &a);
        in[i].arg = a;
        i += 1 + ngr_v313_caches(o);
    }
    for (int i = 0; i < n; i++) {
        if (in[i].kind == NGR_I_GET_ITER) {
            /* A for loop: GET_ITER, FOR_ITER; an exhausted FOR_ITER jumps past its END_FOR and
             * the POP_TOP after it, to the loop's exit. */
            int next = i + 1 + ngr_v313_caches(GET_ITER);
            int exit = -1;
            if (next < n && op[next] == FOR_ITER)
                exit = next + 1 + ngr_v313_caches(FOR_ITER) + arg[next] + 2;
            in[i].arg = exit < n ? exit : -1;
        }
        /* after END_FOR (and its POP_TOP): the loop was left */
        if (i >= 2 && op[i - 2] == END_FOR)
            in[i].flags |= NGR_IF_LOOP_EXIT;
    }
    int16_t *depth = ngr_v313_depths(co, op, arg, n);
    if (!depth)
        goto fail;
    free(op);
    free(arg);
    Py_DECREF(bytes);
    *insns = in;
    *n_units = n;
    *vdata = depth;
    return 0;
fail:
    free(in);
    free(op);
    free(arg);
    Py_DECREF(bytes);
    return -1;
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
