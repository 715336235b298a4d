/* sync_cqueue.c — _queue.SimpleQueue (the C queue behind queue.SimpleQueue and the work queue of
 * concurrent.futures.ThreadPoolExecutor): put is SEND, a get that returned an item is RECV, both on
 * the queue.  Its methods sit in a static table, patched like the lock methods.  SimpleQueue
 * objects get FREE when deallocated (addresses are reused). */
#include <string.h>

#include "sync_internal.h"

typedef PyObject *(*fastkw)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);
static fastkw real_put, real_put_nowait;
static PyCMethod real_get, real_get_nowait;
static destructor real_dealloc;
static newfunc real_new;

static PyObject *wrap_put(PyObject *self, PyObject *const *args, Py_ssize_t n, PyObject *kw)
{
    ngr_sync_emit_id(NGR_SYNC_SEND, ngr_sync_ids_get(self), 0);
    return real_put(self, args, n, kw);
}

static PyObject *wrap_put_nowait(PyObject *self, PyObject *const *args, Py_ssize_t n, PyObject *kw)
{
    ngr_sync_emit_id(NGR_SYNC_SEND, ngr_sync_ids_get(self), 0);
    return real_put_nowait(self, args, n, kw);
}

static PyObject *wrap_get(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t n,
                          PyObject *kw)
{
    PyObject *r = real_get(self, cls, args, n, kw);
    if (r)
        ngr_sync_emit_id(NGR_SYNC_RECV, ngr_sync_ids_get(self), 0);
    return r;
}

static PyObject *wrap_get_nowait(PyObject *self, PyTypeObject *cls, PyObject *const *args,
                                 size_t n, PyObject *kw)
{
    PyObject *r = real_get_nowait(self, cls, args, n, kw);
    if (r)
        ngr_sync_emit_id(NGR_SYNC_RECV, ngr_sync_ids_get(self), 0);
    return r;
}

static PyObject *wrap_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *r = real_new(type, args, kw);
    if (r && ngr_tracing())
        ngr_sync_define_created_id(ngr_sync_ids_new(r), NGR_SOBJ_QUEUE, "SimpleQueue");
    return r;
}

static void wrap_dealloc(PyObject *self)
{
    ngr_sync_emit_id(NGR_SYNC_FREE, ngr_sync_ids_drop(self), 0);
    real_dealloc(self);
}

#define FN(f) ((PyCFunction)(void (*)(void))(f))

int ngr_sync_patch_simplequeue(PyObject *queue_module)
{
    PyObject *t = PyObject_GetAttrString(queue_module, "SimpleQueue");
    if (!t || !PyType_Check(t)) {
        PyErr_Clear();
        Py_XDECREF(t);
        return -1;
    }
    PyTypeObject *tp = (PyTypeObject *)t;   /* kept: the module holds it for good */
    Py_DECREF(t);
    PyMethodDef *tab = tp->tp_methods;
    int have = 0;
    for (PyMethodDef *m = tab; m && m->ml_name; m++)
        have += !strcmp(m->ml_name, "put") || !strcmp(m->ml_name, "put_nowait") ||
                !strcmp(m->ml_name, "get") || !strcmp(m->ml_name, "get_nowait");
    if (have != 4)
        return -1;
    real_put = (fastkw)(void (*)(void))ngr_sync_patch_table(tab, "put", FN(wrap_put));
    real_put_nowait = (fastkw)(void (*)(void))ngr_sync_patch_table(tab, "put_nowait", FN(wrap_put_nowait));
    real_get = (PyCMethod)(void (*)(void))ngr_sync_patch_table(tab, "get", FN(wrap_get));
    real_get_nowait = (PyCMethod)(void (*)(void))ngr_sync_patch_table(tab, "get_nowait", FN(wrap_get_nowait));
    real_new = tp->tp_new;
    tp->tp_new = wrap_new;
    real_dealloc = tp->tp_dealloc;
    tp->tp_dealloc = wrap_dealloc;
    return 0;
}
