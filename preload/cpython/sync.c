/* sync.c — threading.Lock and threading.RLock as ACQUIRE/RELEASE events, their names, and the
 * Condition waiter locks turned into SEND/RECV edges (see sync.h).
 *
 * _thread.lock and _thread.RLock keep their methods in static PyMethodDef tables; every method
 * object (descriptors, bound methods captured before init, specialised calls) reads ml_meth at
 * call time, so swapping ml_meth for a wrapper that calls the original catches every call.
 * Thin hooks: the original runs unchanged; ACQUIRE is recorded after success, RELEASE before the
 * release happens (and only when it will succeed).
 *
 * Condition waiter locks: Condition.wait allocates a lock, acquires it, and blocks acquiring it a
 * second time; Condition.notify releases it from the notifying thread.  Those calls come straight
 * from the frames of Condition.wait / Condition.notify, which no other lock call does (the
 * Condition's own lock is driven from _release_save/_acquire_restore/_is_owned or __enter__), so
 * the frame's code object tells them apart: a release from notify is SEND on the Condition (the
 * frame's `self`), the second acquire in wait is RECV on it, and neither enters a lockset.
 */
#include "sync.h"

#include <stdio.h>
#include <string.h>

#include "sync_internal.h"
#include "sync_wrap.h"

_Atomic(PyObject *) ngr_sync_cond_wait_code;
_Atomic(PyObject *) ngr_sync_cond_notify_code;

static PyTypeObject *lock_type, *rlock_type;

/* ---- originals ----------------------------------------------------------------------------- */

/* Queries the hooks call themselves: METH_NOARGS in every version (checked at patch time). */
static PyCFunction real_lock_locked, real_rlock_is_owned, real_rlock_count;
static newfunc real_lock_new, real_rlock_new;
static destructor real_lock_dealloc, real_rlock_dealloc;

static PyCFunction noargs_get(PyMethodDef *table, const char *name)
{
    for (PyMethodDef *m = table; m && m->ml_name; m++)
        if (strcmp(m->ml_name, name) == 0)
            return (m->ml_flags & (METH_VARARGS | METH_KEYWORDS | METH_NOARGS | METH_O | METH_FASTCALL)) ==
                           METH_NOARGS ? m->ml_meth : NULL;
    return NULL;
}

/* ---- naming -------------------------------------------------------------------------------- */

/* Frames of these stdlib files are skipped when looking for the creation site. */
static bool internal_file(PyObject *filename)
{
    static const char *const tails[] = {"/threading.py", "/queue.py", "/concurrent/futures/_base.py",
                                        "/concurrent/futures/thread.py"};
    const char *f = PyUnicode_Check(filename) ? PyUnicode_AsUTF8(filename) : NULL;
    if (!f) {
        PyErr_Clear();
        return false;
    }
    size_t n = strlen(f);
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        size_t t = strlen(tails[i]);
        if (n >= t && strcmp(f + n - t, tails[i]) == 0)
            return true;
    }
    return false;
}

void ngr_sync_define_created(PyObject *obj, unsigned sobj_kind, const char *what)
{
    ngr_sync_define_created_id(ngr_sync_id(obj), sobj_kind, what);
}

void ngr_sync_define_created_id(uint64_t id, unsigned sobj_kind, const char *what)
{
    if (!ngr_tracing())
        return;
    PyObject *exc = PyErr_GetRaisedException();
    char name[512];
    snprintf(name, sizeof name, "<%s>", what);
    PyFrameObject *f = PyEval_GetFrame();
    Py_XINCREF(f);
    while (f) {
        PyCodeObject *code = PyFrame_GetCode(f);
        /* Module-level code of those files is a creation site of its own (their globals). */
        if (!internal_file(code->co_filename) ||
            PyUnicode_CompareWithASCIIString(code->co_name, "<module>") == 0) {
            const char *file = PyUnicode_AsUTF8(code->co_filename);
            if (!file) {
                PyErr_Clear();
                file = "?";
            }
            const char *base = strrchr(file, '/');
            snprintf(name, sizeof name, "<%s created at %s:%d>", what, base ? base + 1 : file,
                     PyFrame_GetLineNumber(f));
            Py_DECREF(code);
            break;
        }
        Py_DECREF(code);
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
    ngr_define_sync_obj(id, sobj_kind, ngr_intern_string(name, strlen(name)));
    PyErr_SetRaisedException(exc);
}

static unsigned c_kind(PyObject *obj)
{
    PyTypeObject *t = Py_TYPE(obj);
    if (t == lock_type)
        return NGR_SOBJ_LOCK;
    if (rlock_type && PyType_IsSubtype(t, rlock_type))
        return NGR_SOBJ_RLOCK;
    return 0;
}

/* `with cond:` and cond.wait() acquire and release the Condition's inner lock (its `_lock`), and
 * that lock is what locksets show: it takes the Condition's name (`home._cond`, not `<RLock
 * created at home.py:4>`).  A lock named before (`Condition(lock)` with `lock` a global stored
 * first) keeps its own: first name wins, as for any lock.  Only C locks: no Python code runs. */
static void name_cond_lock(PyObject *cond, const char *qualified_name)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *d = PyObject_GenericGetDict(cond, NULL), *lock = NULL;
    if (d && PyDict_Check(d) && PyDict_GetItemStringRef(d, "_lock", &lock) > 0) {
        unsigned kind = c_kind(lock);
        uint64_t id = ngr_sync_ids_get(lock);
        if (kind && ngr_sync_ids_claim_name(id))
            ngr_define_sync_obj(id, kind, ngr_intern_string(qualified_name, strlen(qualified_name)));
    }
    Py_XDECREF(lock);
    Py_XDECREF(d);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

void ngr_sync_name_hint(PyObject *obj, const char *qualified_name)
{
    if (!obj || !qualified_name || !ngr_tracing())
        return;
    /* Fast exit for ints, strs, dicts, functions...: every sync type here is a heap type. */
    if (!(Py_TYPE(obj)->tp_flags & Py_TPFLAGS_HEAPTYPE) || PyType_Check(obj))
        return;
    unsigned kind = c_kind(obj);
    if (!kind)
        kind = ngr_sync_py_kind(obj);
    if (!kind)
        return;
    /* Objects created while tracing have table ids; the others their address.  The first name
     * stays: names are resolved by id with the last definition winning, and an alias stored later
     * (`from app import lock`, pytest-run-parallel copying a test module's globals into its own)
     * must not send the reader to the wrong module. */
    uint64_t id = ngr_sync_ids_get(obj);
    if (ngr_sync_ids_claim_name(id))
        ngr_define_sync_obj(id, kind, ngr_intern_string(qualified_name, strlen(qualified_name)));
    if (kind == NGR_SOBJ_CONDITION)
        name_cond_lock(obj, qualified_name);
}

/* ---- creation and destruction -------------------------------------------------------------- */

static bool in_cond_wait(void)
{
    PyObject *code = atomic_load_explicit(&ngr_sync_cond_wait_code, memory_order_relaxed);
    return code && ngr_sync_cur_code() == code;
}

static void after_allocate_lock(PyObject *mod, PyObject *r, PyObject *arg0)
{
    (void)mod;
    (void)arg0;
    if (r && ngr_tracing() && !in_cond_wait())  /* waiter locks: no name, they become SEND/RECV */
        ngr_sync_define_created_id(ngr_sync_ids_new(r), NGR_SOBJ_LOCK, "lock");
}
NGR_CWRAP_DEFINE(w_allocate_lock, "_thread.allocate_lock", NULL, after_allocate_lock);

static PyObject *wrap_lock_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *r = real_lock_new(type, args, kw);
    if (r && ngr_tracing())
        ngr_sync_define_created_id(ngr_sync_ids_new(r), NGR_SOBJ_LOCK, "lock");
    return r;
}

static PyObject *wrap_rlock_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *r = real_rlock_new(type, args, kw);
    if (r && ngr_tracing())
        ngr_sync_define_created_id(ngr_sync_ids_new(r), NGR_SOBJ_RLOCK, "RLock");
    return r;
}

static void wrap_lock_dealloc(PyObject *self)
{
    ngr_sync_emit_id(NGR_SYNC_FREE, ngr_sync_ids_drop(self), 0);
    real_lock_dealloc(self);
}

static void wrap_rlock_dealloc(PyObject *self)
{
    ngr_sync_emit_id(NGR_SYNC_FREE, ngr_sync_ids_drop(self), 0);
    real_rlock_dealloc(self);
}

/* ---- _thread.lock -------------------------------------------------------------------------- */

/* The waiter lock this thread acquired first in Condition.wait; its next acquire is the wait. */
static __thread PyObject *pending_waiter;

static void after_lock_acquire(PyObject *self, PyObject *r, PyObject *arg0)
{
    (void)arg0;
    if (!in_cond_wait()) {
        if (r == Py_True)
            ngr_sync_emit_id(NGR_SYNC_ACQUIRE, ngr_sync_ids_get(self), 0);
        return;
    }
    if (pending_waiter != self) {
        pending_waiter = self;      /* first acquire, right after allocation: not a wait */
    } else {
        pending_waiter = NULL;
        if (r == Py_True) {
            PyObject *cond = ngr_sync_cur_self();
            if (cond)
                ngr_sync_emit_id(NGR_SYNC_RECV, ngr_sync_ids_get(cond), 0);
        }
    }
}

/* Emit what a release of self is about to mean; nothing if it will fail (not locked). */
static void before_lock_release(PyObject *self)
{
    if (!ngr_tracing())
        return;
    PyObject *code = atomic_load_explicit(&ngr_sync_cond_notify_code, memory_order_relaxed);
    if (code && ngr_sync_cur_code() == code) {
        PyObject *cond = ngr_sync_cur_self();
        if (cond)
            ngr_sync_emit_id(NGR_SYNC_SEND, ngr_sync_ids_get(cond), 0);
        return;
    }
    PyObject *locked = real_lock_locked(self, NULL);
    if (locked == Py_True)
        ngr_sync_emit_id(NGR_SYNC_RELEASE, ngr_sync_ids_get(self), 0);
    if (!locked)
        PyErr_Clear();
    Py_XDECREF(locked);
}

/* One slot per table entry: entries that share a C function in one version may not in another. */
NGR_CWRAP_DEFINE(w_lock_acquire, "lock.acquire", NULL, after_lock_acquire);
NGR_CWRAP_DEFINE(w_lock_acquire_lock, "lock.acquire_lock", NULL, after_lock_acquire);
NGR_CWRAP_DEFINE(w_lock_enter, "lock.__enter__", NULL, after_lock_acquire);
NGR_CWRAP_DEFINE(w_lock_release, "lock.release", before_lock_release, NULL);
NGR_CWRAP_DEFINE(w_lock_release_lock, "lock.release_lock", before_lock_release, NULL);
NGR_CWRAP_DEFINE(w_lock_exit, "lock.__exit__", before_lock_release, NULL);

/* ---- _thread.RLock ------------------------------------------------------------------------- */

static void after_rlock_acquire(PyObject *self, PyObject *r, PyObject *arg0)
{
    (void)arg0;
    if (r == Py_True)
        ngr_sync_emit_id(NGR_SYNC_ACQUIRE, ngr_sync_ids_get(self), 0);
}

static bool rlock_owned(PyObject *self)
{
    PyObject *owned = real_rlock_is_owned(self, NULL);
    if (!owned)
        PyErr_Clear();
    Py_XDECREF(owned);
    return owned == Py_True;
}

static void before_rlock_release(PyObject *self)
{
    if (ngr_tracing() && rlock_owned(self))
        ngr_sync_emit_id(NGR_SYNC_RELEASE, ngr_sync_ids_get(self), 0);
}

/* Condition.wait on an RLock: the whole depth is released at once ... */
static void before_rlock_release_save(PyObject *self)
{
    if (!ngr_tracing())
        return;
    PyObject *n = real_rlock_count(self, NULL);
    long depth = n ? PyLong_AsLong(n) : 0;
    if (!n || depth < 0)
        PyErr_Clear();
    Py_XDECREF(n);
    if (depth > 0)
        ngr_sync_emit_id(NGR_SYNC_RELEASE_ALL, ngr_sync_ids_get(self), (uint32_t)depth);
}

/* ... and restored to the saved depth: the argument is the (count, owner) tuple. */
static void after_rlock_acquire_restore(PyObject *self, PyObject *r, PyObject *state)
{
    if (!r || !ngr_tracing())
        return;
    long depth = 1;
    if (state && PyTuple_Check(state) && PyTuple_GET_SIZE(state) >= 1 &&
        PyLong_CheckExact(PyTuple_GET_ITEM(state, 0))) {
        depth = PyLong_AsLong(PyTuple_GET_ITEM(state, 0));
        if (depth < 1) {
            PyErr_Clear();
            depth = 1;
        }
    }
    ngr_sync_emit_id(NGR_SYNC_ACQUIRE_ALL, ngr_sync_ids_get(self), (uint32_t)depth);
}

NGR_CWRAP_DEFINE(w_rlock_acquire, "RLock.acquire", NULL, after_rlock_acquire);
NGR_CWRAP_DEFINE(w_rlock_enter, "RLock.__enter__", NULL, after_rlock_acquire);
NGR_CWRAP_DEFINE(w_rlock_release, "RLock.release", before_rlock_release, NULL);
NGR_CWRAP_DEFINE(w_rlock_exit, "RLock.__exit__", before_rlock_release, NULL);
NGR_CWRAP_DEFINE(w_rlock_release_save, "RLock._release_save", before_rlock_release_save, NULL);
NGR_CWRAP_DEFINE(w_rlock_acquire_restore, "RLock._acquire_restore", NULL, after_rlock_acquire_restore);

/* ---- install ------------------------------------------------------------------------------- */

static int patch_locks(void)
{
    PyObject *thread = PyImport_ImportModule("_thread");
    if (!thread)
        return -1;
    PyObject *lt = PyObject_GetAttrString(thread, "LockType");
    PyObject *rt = PyObject_GetAttrString(thread, "RLock");
    PyObject *alloc = PyObject_GetAttrString(thread, "allocate_lock");
    PyObject *alloc2 = PyObject_GetAttrString(thread, "allocate");
    int rc = -1;
    if (!lt || !rt || !alloc || !PyType_Check(lt) || !PyType_Check(rt) || !PyCFunction_Check(alloc))
        goto out;
    lock_type = (PyTypeObject *)lt;
    rlock_type = (PyTypeObject *)rt;
    PyMethodDef *lm = lock_type->tp_methods, *rm = rlock_type->tp_methods;

    /* The lookups first, so that a table without one of them is left untouched. */
    real_lock_locked = noargs_get(lm, "locked");
    real_rlock_is_owned = noargs_get(rm, "_is_owned");
    real_rlock_count = noargs_get(rm, "_recursion_count");
    if (!real_lock_locked || !real_rlock_is_owned || !real_rlock_count)
        goto out;

    ngr_cwrap_patch(lm, "acquire", &w_lock_acquire, &w_lock_acquire_fns);
    ngr_cwrap_patch(lm, "acquire_lock", &w_lock_acquire_lock, &w_lock_acquire_lock_fns);
    ngr_cwrap_patch(lm, "__enter__", &w_lock_enter, &w_lock_enter_fns);
    ngr_cwrap_patch(lm, "release", &w_lock_release, &w_lock_release_fns);
    ngr_cwrap_patch(lm, "release_lock", &w_lock_release_lock, &w_lock_release_lock_fns);
    ngr_cwrap_patch(lm, "__exit__", &w_lock_exit, &w_lock_exit_fns);

    ngr_cwrap_patch(rm, "acquire", &w_rlock_acquire, &w_rlock_acquire_fns);
    ngr_cwrap_patch(rm, "__enter__", &w_rlock_enter, &w_rlock_enter_fns);
    ngr_cwrap_patch(rm, "release", &w_rlock_release, &w_rlock_release_fns);
    ngr_cwrap_patch(rm, "__exit__", &w_rlock_exit, &w_rlock_exit_fns);
    ngr_cwrap_patch(rm, "_release_save", &w_rlock_release_save, &w_rlock_release_save_fns);
    ngr_cwrap_patch(rm, "_acquire_restore", &w_rlock_acquire_restore, &w_rlock_acquire_restore_fns);

    /* allocate_lock and its alias: two entries of the module's method table, one function. */
    PyMethodDef *am = ((PyCFunctionObject *)alloc)->m_ml;
    void (*allocate)(void) = (void (*)(void))am->ml_meth;
    if (ngr_cwrap_patch_def(am, &w_allocate_lock, &w_allocate_lock_fns) && alloc2 &&
        PyCFunction_Check(alloc2) &&
        (void (*)(void))((PyCFunctionObject *)alloc2)->m_ml->ml_meth == allocate)
        ((PyCFunctionObject *)alloc2)->m_ml->ml_meth = am->ml_meth;

    real_lock_new = lock_type->tp_new;
    lock_type->tp_new = wrap_lock_new;
    real_rlock_new = rlock_type->tp_new;
    rlock_type->tp_new = wrap_rlock_new;
    real_lock_dealloc = lock_type->tp_dealloc;
    lock_type->tp_dealloc = wrap_lock_dealloc;
    real_rlock_dealloc = rlock_type->tp_dealloc;
    rlock_type->tp_dealloc = wrap_rlock_dealloc;
    rc = 0;
out:
    if (rc) {
        PyErr_Clear();
        lock_type = rlock_type = NULL;
    }
    Py_XDECREF(alloc2);
    Py_XDECREF(alloc);
    if (rc) {                       /* on success the type references are kept for good */
        Py_XDECREF(rt);
        Py_XDECREF(lt);
    }
    Py_DECREF(thread);
    return rc;
}

int ngr_sync_init(void)
{
    PyErr_Clear();
    if (ngr_sync_ids_init() < 0)
        ngr_log(1, "sync: no id table; objects are identified by address");
    if (patch_locks() < 0) {
        ngr_log(1, "sync: _thread lock types not as expected; locks are not observed");
        PyErr_Clear();
        return -1;
    }
    ngr_sync_interp_locks_init();
    if (ngr_threads_init() < 0 || ngr_sync_py_init() < 0 || ngr_gil_init() < 0) {
        ngr_log(1, "sync: partial set-up (see above)");
        PyErr_Clear();
    }
    return 0;
}
