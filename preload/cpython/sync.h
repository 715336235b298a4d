/* sync.h — synchronisation hooks of the CPython hooks library (hooks-sync owns sync*.c, gil*.c,
 * threads*.c).
 *
 * What is observed, and how:
 *   sync.c        _thread.lock / _thread.RLock: ACQUIRE after a successful acquire/__enter__,
 *                 RELEASE before release/__exit__ (only when it will succeed), RELEASE_ALL /
 *                 ACQUIRE_ALL (with the depth) for Condition.wait on an RLock; ml_meth swapped in
 *                 the static method tables, so pre-bound methods are caught too.  Named
 *                 "<lock created at app.py:12>" at creation (tp_new, _thread.allocate_lock), renamed
 *                 by ngr_sync_name_hint; FREE at tp_dealloc.  Condition waiter locks (allocated,
 *                 acquired and released from Condition.wait/notify frames) become SEND (notify) /
 *                 RECV (wait returned notified) on the Condition and never enter a lockset.
 *   sync_py.c     Python-level stdlib methods wrapped when their module finishes importing (a
 *                 sys.modules dict watcher): Event set->wait/is_set, Semaphore/BoundedSemaphore
 *                 release->acquire/__enter__, Barrier wait<->wait, Queue put->get and
 *                 task_done->join, Future set_result/set_exception->result/exception/done;
 *                 __init__ names them "<Event created at ...>".
 *   sync_cqueue.c _queue.SimpleQueue put->get (so ThreadPoolExecutor submit->run).
 *   sync_interp_locks.c  the interpreter's C recursive locks taken from Python: the import lock
 *                 (_imp.acquire_lock/release_lock) and 3.14's warnings lock
 *                 (_warnings._acquire_lock/_release_lock), as RLocks "<import lock>",
 *                 "<warnings lock>".
 *   sync_wrap.c   C method wrappers matched to each method's calling convention at patch time.
 *   sync_ids.c    ids that stay unique when addresses are reused (objects created while tracing).
 *   threads.c     thread names (start, self-rename), end of thread -> every join that saw it.
 *   gil.c         an extension module turning the GIL back on (free-threaded 3.13).
 * Not observed: Python-level methods bound before the module was patched (e.g. `put = q.put`
 * captured before tracing started); renaming a thread from another thread; Condition subclasses
 * that override wait/notify.  The wrapped Python objects carry one extra weak reference.
 * Everything is reported through ngr_api.h (ngr_emit_sync, ngr_define_sync_obj ...).
 *
 * All functions here are called with the calling thread attached to the interpreter.
 */
#ifndef NGR_CPYTHON_SYNC_H
#define NGR_CPYTHON_SYNC_H

#include <Python.h>

/* Install the synchronisation hooks.  Called once by ngr_hooks_init, on the main thread, attached,
 * before user code runs.  Returns 0 on success; on failure returns -1 with nothing left installed
 * and no Python exception set. */
int ngr_sync_init(void);

/* Name hint: hooks-access calls this whenever it sees `obj` stored under a global or class
 * attribute named `qualified_name` (e.g. "app.lock", "app.Registry._lock").  If obj is a lock or
 * another synchronisation object the detector knows and has no such name yet, it is renamed
 * (replacing "<lock created at ...>"); the first name stays, later aliases are ignored; otherwise
 * nothing happens.
 * Never runs Python code; cheap for objects that are not synchronisation objects (a type check). */
void ngr_sync_name_hint(PyObject *obj, const char *qualified_name);

#endif
