/* sync_interp_locks.c — the interpreter's own recursive locks that Python code takes through a
 * module's builtins, as RLocks: the import lock ("<import lock>", _imp.acquire_lock /
 * _imp.release_lock) and, from 3.14, the warnings lock ("<warnings lock>", _warnings._acquire_lock
 * / _warnings._release_lock).
 *
 * Both are C recursive mutexes in the interpreter state (interp->imports.lock, the warnings
 * module state's lock), invisible to the pthread and _thread hooks.  importlib._bootstrap guards
 * its module-level tables with the import lock (_module_locks in _get_module_lock() and in the
 * weakref callback that drops a dead entry, and everything a finder's find_spec does under
 * _ImportLockContext: sys.path_importer_cache ...); without it two threads importing the same
 * module for the first time looked unlocked to the analyzer.  3.14's warnings module takes the
 * warnings lock around every change of its filters from Python (`with _wm._lock:` in
 * catch_warnings, simplefilter, filterwarnings ...); without it those looked unlocked too.
 *
 * Each function is a METH_NOARGS builtin of its module, so its ml_meth is swapped as for
 * _thread.allocate_lock.  ACQUIRE after the acquire, RELEASE before the release; every call is
 * one level, as the RLock hooks write it (the analyzer counts the depth).  A RELEASE is written
 * only while this thread has ACQUIREs written and not yet released: then it holds the mutex and
 * the release cannot fail (the release functions raise RuntimeError when the caller does not
 * hold it), and no RELEASE without its ACQUIRE reaches a trace (the analyzer would take it from
 * another thread's lockset, as for a threading.Lock).
 *
 * C code takes the same mutexes too (around fork for the import lock; inside warn() for the
 * warnings lock) with no traced Python access made while it holds them, so nothing is lost by
 * not seeing those; a fork child keeps the forking thread's depth, as the mutex keeps its level.
 *
 * One id per lock: the address of a byte of this library, which no Python object, pthread object
 * or table id can have; never freed.  Sub-interpreters each have locks of their own and share
 * these ids (at worst a missed race between interpreters, which share no module state).  These
 * calls are rare: a thread-local counter and, once, a name.
 */
#include <stdatomic.h>
#include <string.h>

#include "sync_internal.h"
#include "sync_wrap.h"

struct interp_lock {
    const char *module, *acquire, *release, *name;
    char anchor;               /* its address is the lock's id */
    _Atomic bool named;
};

enum { IMPORT_LOCK, WARNINGS_LOCK, N_LOCKS };
static struct interp_lock locks[N_LOCKS] = {
    [IMPORT_LOCK] = {"_imp", "acquire_lock", "release_lock", "<import lock>", 0, false},
    [WARNINGS_LOCK] = {"_warnings", "_acquire_lock", "_release_lock", "<warnings lock>", 0, false},
};
static __thread unsigned traced_depth[N_LOCKS];

static inline uint64_t lock_id(int i) { return (uint64_t)(uintptr_t)&locks[i].anchor; }

static void acquired(int i, PyObject *r)
{
    if (!r || !ngr_tracing())
        return;
    struct interp_lock *l = &locks[i];
    if (!atomic_load_explicit(&l->named, memory_order_relaxed) &&
        !atomic_exchange_explicit(&l->named, true, memory_order_relaxed))
        ngr_define_sync_obj(lock_id(i), NGR_SOBJ_RLOCK, ngr_intern_string(l->name, strlen(l->name)));
    traced_depth[i]++;
    ngr_sync_emit_id(NGR_SYNC_ACQUIRE, lock_id(i), 0);
}

static void releasing(int i)
{
    if (traced_depth[i]) {
        traced_depth[i]--;
        ngr_sync_emit_id(NGR_SYNC_RELEASE, lock_id(i), 0);
    }
}

#define LOCK_WRAPPERS(I, ID)                                                                 \
    static void after_acquire_##ID(PyObject *m, PyObject *r, PyObject *a) { (void)m; (void)a; acquired(I, r); } \
    static void before_release_##ID(PyObject *m) { (void)m; releasing(I); }                  \
    NGR_CWRAP_DEFINE(w_acquire_##ID, "acquire", NULL, after_acquire_##ID);                   \
    NGR_CWRAP_DEFINE(w_release_##ID, "release", before_release_##ID, NULL)
LOCK_WRAPPERS(IMPORT_LOCK, import);
LOCK_WRAPPERS(WARNINGS_LOCK, warnings);

static struct { struct ngr_cwrap *acquire, *release; const struct ngr_cwrap_fns *acquire_fns, *release_fns; }
    wrappers[N_LOCKS] = {
        [IMPORT_LOCK] = {&w_acquire_import, &w_release_import, &w_acquire_import_fns, &w_release_import_fns},
        [WARNINGS_LOCK] = {&w_acquire_warnings, &w_release_warnings, &w_acquire_warnings_fns,
                           &w_release_warnings_fns},
};

/* The PyMethodDef of module.<name> when it is a METH_NOARGS builtin, else NULL. */
static PyMethodDef *noargs_def(PyObject *mod, const char *name)
{
    PyObject *f = PyObject_GetAttrString(mod, name);
    PyMethodDef *def = NULL;
    if (f && PyCFunction_Check(f) && ((PyCFunctionObject *)f)->m_ml->ml_flags == METH_NOARGS)
        def = ((PyCFunctionObject *)f)->m_ml;
    Py_XDECREF(f);                  /* the table is static: it outlives the function object */
    PyErr_Clear();
    return def;
}

/* Patch lock i's two builtins (both or neither); 0 when they are observed, -1 when the module or
 * its functions are not there as expected (an older version has no warnings lock). */
static int patch(int i)
{
    struct interp_lock *l = &locks[i];
    PyObject *mod = PyImport_ImportModule(l->module);
    if (!mod) {
        PyErr_Clear();
        return -1;
    }
    PyMethodDef *acq = noargs_def(mod, l->acquire), *rel = noargs_def(mod, l->release);
    Py_DECREF(mod);
    if (wrappers[i].acquire->real)
        return 0; /* once */
    if (!acq || !rel)
        return -1;
    if (!ngr_cwrap_patch_def(rel, wrappers[i].release, wrappers[i].release_fns))
        return -1;
    ngr_cwrap_patch_def(acq, wrappers[i].acquire, wrappers[i].acquire_fns);
    return 0;
}

int ngr_sync_interp_locks_init(void)
{
    if (patch(IMPORT_LOCK) < 0)
        ngr_log(1, "sync: _imp lock functions not as expected; the import lock is not observed");
    if (patch(WARNINGS_LOCK) < 0)
        ngr_log(1, "sync: no _warnings._acquire_lock (before 3.14); no warnings lock to observe");
    return 0;
}
