/* sync_imp.c — the interpreter's import lock, taken from Python by _imp.acquire_lock() and
 * _imp.release_lock(), as an RLock named "<import lock>".
 *
 * importlib._bootstrap guards its module-level tables with it: _module_locks in
 * _get_module_lock() and in the weakref callback that drops a dead entry, and everything a
 * finder's find_spec does under _ImportLockContext (sys.path_importer_cache ...).  The lock is a
 * C recursive mutex (interp->imports.lock), invisible to the pthread and _thread hooks, so two
 * threads importing the same module for the first time looked unlocked to the analyzer.
 *
 * Both functions are builtins of the _imp module (METH_NOARGS, one static PyMethodDef table),
 * so their ml_meth is swapped as for _thread.allocate_lock.  ACQUIRE after the acquire, RELEASE
 * before the release; every call is one level, as the RLock hooks write it (the analyzer counts
 * the depth).  A RELEASE is written only while this thread has ACQUIREs written and not yet
 * released: then it holds the mutex and the release cannot fail (release_lock raises
 * RuntimeError when the caller does not hold it), and no RELEASE without its ACQUIRE reaches a
 * trace (the analyzer would take it from another thread's lockset, as for a threading.Lock).
 *
 * C code takes the same mutex only around fork (PyOS_BeforeFork / PyOS_AfterFork_*), with no
 * Python code run while it is held, so nothing is lost by not seeing it; a fork child keeps the
 * forking thread's depth, as the mutex keeps its level.
 *
 * One id for the lock: the address of a byte of this library, which no Python object, pthread
 * object or table id can have; it is never freed.  Sub-interpreters each have an import lock of
 * their own and share this id (at worst a missed race between interpreters, which share no
 * module state).  These calls are rare: a thread-local counter and, once, a name.
 */
#include <stdatomic.h>
#include <string.h>

#include "sync_internal.h"

static PyCFunction real_imp_acquire, real_imp_release;

static const char import_lock_anchor;
static _Atomic bool import_lock_named;
static __thread unsigned traced_depth;

static inline uint64_t import_lock_id(void) { return (uint64_t)(uintptr_t)&import_lock_anchor; }

static void name_import_lock(void)
{
    if (atomic_load_explicit(&import_lock_named, memory_order_relaxed) ||
        atomic_exchange_explicit(&import_lock_named, true, memory_order_relaxed))
        return;
    static const char name[] = "<import lock>";
    ngr_define_sync_obj(import_lock_id(), NGR_SOBJ_RLOCK, ngr_intern_string(name, sizeof name - 1));
}

static PyObject *wrap_imp_acquire(PyObject *mod, PyObject *unused)
{
    PyObject *r = real_imp_acquire(mod, unused);
    if (r && ngr_tracing()) {
        name_import_lock();
        traced_depth++;
        ngr_sync_emit_id(NGR_SYNC_ACQUIRE, import_lock_id(), 0);
    }
    return r;
}

static PyObject *wrap_imp_release(PyObject *mod, PyObject *unused)
{
    if (traced_depth) {
        traced_depth--;
        ngr_sync_emit_id(NGR_SYNC_RELEASE, import_lock_id(), 0);
    }
    return real_imp_release(mod, unused);
}

/* The PyMethodDef of _imp.<name> when it is a METH_NOARGS builtin, else NULL. */
static PyMethodDef *noargs_def(PyObject *imp, const char *name)
{
    PyObject *f = PyObject_GetAttrString(imp, name);
    PyMethodDef *def = NULL;
    if (f && PyCFunction_Check(f) && ((PyCFunctionObject *)f)->m_ml->ml_flags == METH_NOARGS)
        def = ((PyCFunctionObject *)f)->m_ml;
    Py_XDECREF(f);                  /* the table is static: it outlives the function object */
    PyErr_Clear();
    return def;
}

int ngr_sync_imp_init(void)
{
    PyObject *imp = PyImport_ImportModule("_imp");
    if (!imp) {
        PyErr_Clear();
        return -1;
    }
    PyMethodDef *acq = noargs_def(imp, "acquire_lock"), *rel = noargs_def(imp, "release_lock");
    Py_DECREF(imp);
    if (!acq || !rel || real_imp_acquire)   /* both or neither; once */
        return real_imp_acquire ? 0 : -1;
    real_imp_acquire = acq->ml_meth;
    real_imp_release = rel->ml_meth;
    rel->ml_meth = wrap_imp_release;
    acq->ml_meth = wrap_imp_acquire;
    return 0;
}
