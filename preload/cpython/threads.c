/* threads.c — thread names and the Python-level end-of-thread edge.
 *
 * Names: Thread._bootstrap_inner is wrapped (sync_py.c); at its start, in the new thread, the
 * Thread's `_name` is read from its instance dict (no user code: no property, no __getattr__) and
 * recorded for ngr_thread_num().  The main thread is named "MainThread" at init.  Renames
 * (`Thread.name = ...`, setName) through the wrapped property setter are recorded when a thread
 * renames itself; renaming another running thread is not seen.
 *
 * Join: pthread_join (the shim's THREAD JOIN) happens only for the first joiner of a thread, so
 * the last thing a thread's _bootstrap_inner does is SEND on its _thread._ThreadHandle, and a
 * _ThreadHandle.join that returns with the handle done is RECV on it (every joiner, timed joins
 * that saw the end included).
 */
#include <stdio.h>
#include <string.h>

#include "sync_internal.h"
#include "sync_wrap.h"

static PyCFunction real_handle_is_done;

/* The threading.Thread object this thread runs (borrowed: valid while the thread runs it). */
static __thread PyObject *own_thread;

/* New reference to the instance-dict item `attr` of obj, NULL if absent; no exception left. */
static PyObject *dict_item(PyObject *obj, const char *attr)
{
    PyObject *d = PyObject_GenericGetDict(obj, NULL), *v = NULL;
    if (!d || !PyDict_Check(d) || PyDict_GetItemStringRef(d, attr, &v) <= 0)
        v = NULL;
    Py_XDECREF(d);
    PyErr_Clear();
    return v;
}

void ngr_threads_boot_begin(PyObject *thread)
{
    own_thread = thread;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *name = dict_item(thread, "_name");
    Py_ssize_t len = 0;
    const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &len) : NULL;
    if (s)
        ngr_define_thread_name(ngr_thread_num(), ngr_intern_string(s, (size_t)len));
    Py_XDECREF(name);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

void ngr_threads_renamed(PyObject *thread)
{
    if (thread == own_thread)
        ngr_threads_boot_begin(thread);
}

void ngr_threads_set_main(PyObject *main_thread)
{
    if (ngr_thread_num() == 1)
        own_thread = main_thread;   /* _main_thread lives as long as threading */
}

void ngr_threads_boot_end(PyObject *thread)
{
    own_thread = NULL;
    PyObject *exc = PyErr_GetRaisedException();
    /* Thread._handle (3.13), renamed Thread._os_thread_handle in 3.14 */
    PyObject *handle = dict_item(thread, "_os_thread_handle");
    if (!handle)
        handle = dict_item(thread, "_handle");
    if (handle && handle != Py_None && ngr_tracing()) {
        /* Named after the thread, so a join edge reads "<end of thread worker-1>". */
        PyObject *name = dict_item(thread, "_name");
        const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        char buf[256];
        int n = snprintf(buf, sizeof buf, "<end of thread %s>", s ? s : "?");
        PyErr_Clear();
        Py_XDECREF(name);
        if (n > 0)
            ngr_define_sync_obj(ngr_sync_id(handle), NGR_SOBJ_OTHER,
                                ngr_intern_string(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1));
        ngr_sync_emit(NGR_SYNC_SEND, handle, 0);
    }
    Py_XDECREF(handle);
    PyErr_SetRaisedException(exc);
}

static void after_handle_join(PyObject *self, PyObject *r, PyObject *arg0)
{
    (void)arg0;
    if (r && ngr_tracing()) {
        PyObject *done = real_handle_is_done(self, NULL);
        if (done == Py_True)
            ngr_sync_emit(NGR_SYNC_RECV, self, 0);
        if (!done)
            PyErr_Clear();
        Py_XDECREF(done);
    }
}
NGR_CWRAP_DEFINE(w_handle_join, "_ThreadHandle.join", NULL, after_handle_join);

int ngr_threads_init(void)
{
    static const char main_name[] = "MainThread";
    ngr_define_thread_name(ngr_thread_num(), ngr_intern_string(main_name, sizeof main_name - 1));

    PyObject *mod = PyImport_ImportModule("_thread");
    PyObject *t = mod ? PyObject_GetAttrString(mod, "_ThreadHandle") : NULL;
    Py_XDECREF(mod);
    if (!t || !PyType_Check(t)) {
        PyErr_Clear();
        Py_XDECREF(t);
        ngr_log(1, "sync: no _thread._ThreadHandle; joins rely on pthread_join only");
        return -1;
    }
    PyMethodDef *tab = ((PyTypeObject *)t)->tp_methods;   /* the type lives as long as _thread */
    Py_DECREF(t);
    for (PyMethodDef *m = tab; m && m->ml_name; m++)
        if (!strcmp(m->ml_name, "is_done") && m->ml_flags == METH_NOARGS)
            real_handle_is_done = m->ml_meth;
    if (!real_handle_is_done)
        return -1;
    return ngr_cwrap_patch(tab, "join", &w_handle_join, &w_handle_join_fns) ? 0 : -1;
}
