/* sync_cqueue.c — _queue.SimpleQueue (the C queue behind queue.SimpleQueue and the work queue of
 * concurrent.futures.ThreadPoolExecutor): put is SEND, a get that returned an item is RECV, both on
 * the queue.  Its methods sit in a static table, patched like the lock methods.  SimpleQueue
 * objects get FREE when deallocated (addresses are reused). */
#include <string.h>

#include "sync_internal.h"
#include "sync_wrap.h"

static destructor real_dealloc;
static newfunc real_new;

static void before_put(PyObject *self)
{
    ngr_sync_emit_id(NGR_SYNC_SEND, ngr_sync_ids_get(self), 0);
}

static void after_get(PyObject *self, PyObject *r, PyObject *arg0)
{
    (void)arg0;
    if (r)
        ngr_sync_emit_id(NGR_SYNC_RECV, ngr_sync_ids_get(self), 0);
}

NGR_CWRAP_DEFINE(w_put, "SimpleQueue.put", before_put, NULL);
NGR_CWRAP_DEFINE(w_put_nowait, "SimpleQueue.put_nowait", before_put, NULL);
NGR_CWRAP_DEFINE(w_get, "SimpleQueue.get", NULL, after_get);
NGR_CWRAP_DEFINE(w_get_nowait, "SimpleQueue.get_nowait", NULL, after_get);

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
    ngr_cwrap_patch(tab, "put", &w_put, &w_put_fns);
    ngr_cwrap_patch(tab, "put_nowait", &w_put_nowait, &w_put_nowait_fns);
    ngr_cwrap_patch(tab, "get", &w_get, &w_get_fns);
    ngr_cwrap_patch(tab, "get_nowait", &w_get_nowait, &w_get_nowait_fns);
    real_new = tp->tp_new;
    tp->tp_new = wrap_new;
    real_dealloc = tp->tp_dealloc;
    tp->tp_dealloc = wrap_dealloc;
    return 0;
}
