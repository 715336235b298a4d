/* sync_wrap.h — wrapping a C method whatever its calling convention.
 *
 * The synchronisation hooks swap ml_meth in the static method tables of _thread.lock,
 * _thread.RLock, _queue.SimpleQueue, _thread._ThreadHandle, _imp (sync.h says why).  A wrapper
 * must take and pass on the arguments exactly as the real function does, and calling
 * conventions change between versions (3.15 turned lock.acquire from METH_VARARGS|METH_KEYWORDS
 * into METH_FASTCALL|METH_KEYWORDS, lock.__enter__ into METH_NOARGS, RLock._acquire_restore into
 * METH_O).  So the convention is read from the table entry at patch time: NGR_CWRAP_DEFINE makes
 * one wrapper per convention for a slot, and ngr_cwrap_patch installs the one that matches
 * ml_flags — or none, leaving the method alone, when the convention is one it does not know.
 *
 * What a wrapper adds is convention-free: before(self) runs before the real call, after(self,
 * result, arg0) after it, arg0 being the first positional argument (NULL if none).
 */
#ifndef NGR_CPYTHON_SYNC_WRAP_H
#define NGR_CPYTHON_SYNC_WRAP_H

#include <Python.h>
#include <stdbool.h>

struct ngr_cwrap {
    void (*before)(PyObject *self);
    void (*after)(PyObject *self, PyObject *result, PyObject *arg0);
    void (*real)(void);        /* the original ml_meth, once patched */
    const char *what;          /* for diagnostics: "lock.acquire" */
};

/* The wrappers of one slot, one per calling convention (filled by NGR_CWRAP_DEFINE). */
struct ngr_cwrap_fns {
    PyCFunction noargs, o, varargs, varargs_kw, fast, fast_kw, method_fast_kw;
};

/* Patch entry `name` of `table` with the slot's wrapper for its calling convention.  True when
 * patched; false (nothing changed) when the entry is missing or its convention is not one of
 * ours. */
bool ngr_cwrap_patch(PyMethodDef *table, const char *name, struct ngr_cwrap *slot,
                     const struct ngr_cwrap_fns *fns);
/* The same for a module-level builtin (a PyCFunction object's own PyMethodDef). */
bool ngr_cwrap_patch_def(PyMethodDef *def, struct ngr_cwrap *slot, const struct ngr_cwrap_fns *fns);

#define NGR_CW_BEFORE(s, self) do { if ((s).before) (s).before(self); } while (0)
#define NGR_CW_AFTER(s, self, r, a0) do { if ((s).after) (s).after(self, r, a0); } while (0)
#define NGR_CW_ARG0(args) (PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL)

/* Define `static struct ngr_cwrap NAME` (with its before/after) and NAME##_fns, its wrappers. */
#define NGR_CWRAP_DEFINE(NAME, WHAT, BEFORE, AFTER)                                                  \
    static struct ngr_cwrap NAME = {BEFORE, AFTER, NULL, WHAT};                                      \
    static PyObject *NAME##_noargs(PyObject *self, PyObject *unused)                                 \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCFunction)NAME.real)(self, unused);                                        \
        NGR_CW_AFTER(NAME, self, r, NULL);                                                           \
        return r;                                                                                    \
    }                                                                                                \
    static PyObject *NAME##_o(PyObject *self, PyObject *arg)                                         \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCFunction)NAME.real)(self, arg);                                           \
        NGR_CW_AFTER(NAME, self, r, arg);                                                            \
        return r;                                                                                    \
    }                                                                                                \
    static PyObject *NAME##_varargs(PyObject *self, PyObject *args)                                  \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCFunction)NAME.real)(self, args);                                          \
        NGR_CW_AFTER(NAME, self, r, NGR_CW_ARG0(args));                                              \
        return r;                                                                                    \
    }                                                                                                \
    static PyObject *NAME##_varargs_kw(PyObject *self, PyObject *args, PyObject *kw)                 \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCFunctionWithKeywords)NAME.real)(self, args, kw);                          \
        NGR_CW_AFTER(NAME, self, r, NGR_CW_ARG0(args));                                              \
        return r;                                                                                    \
    }                                                                                                \
    static PyObject *NAME##_fast(PyObject *self, PyObject *const *args, Py_ssize_t n)                \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCFunctionFast)NAME.real)(self, args, n);                                   \
        NGR_CW_AFTER(NAME, self, r, n > 0 ? args[0] : NULL);                                         \
        return r;                                                                                    \
    }                                                                                                \
    static PyObject *NAME##_fast_kw(PyObject *self, PyObject *const *args, Py_ssize_t n,             \
                                    PyObject *kw)                                                    \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCFunctionFastWithKeywords)NAME.real)(self, args, n, kw);                   \
        NGR_CW_AFTER(NAME, self, r, n > 0 ? args[0] : NULL);                                         \
        return r;                                                                                    \
    }                                                                                                \
    static PyObject *NAME##_method_fast_kw(PyObject *self, PyTypeObject *cls, PyObject *const *args, \
                                           size_t n, PyObject *kw)                                   \
    {                                                                                                \
        NGR_CW_BEFORE(NAME, self);                                                                   \
        PyObject *r = ((PyCMethod)NAME.real)(self, cls, args, n, kw);                                \
        NGR_CW_AFTER(NAME, self, r, PyVectorcall_NARGS(n) > 0 ? args[0] : NULL);                    \
        return r;                                                                                    \
    }                                                                                                \
    static const struct ngr_cwrap_fns NAME##_fns = {                                                 \
        NAME##_noargs, NAME##_o, NAME##_varargs,                                                     \
        (PyCFunction)(void (*)(void))NAME##_varargs_kw, (PyCFunction)(void (*)(void))NAME##_fast,    \
        (PyCFunction)(void (*)(void))NAME##_fast_kw,                                                 \
        (PyCFunction)(void (*)(void))NAME##_method_fast_kw}

#endif
