/* sync.h — synchronisation hooks of the CPython hooks library (hooks-sync owns sync*.c, gil*.c,
 * threads*.c).
 *
 * What is observed: threading.Lock/RLock (acquire/release through their C method tables),
 * Condition, Semaphore, Event, Barrier, queue.*, concurrent.futures (happens-before edges as
 * NGR_SYNC_SEND/RECV), thread names, and the GIL being turned back on by an extension module.
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
 * another synchronisation object the detector knows, it is (re)named; otherwise nothing happens.
 * Never runs Python code; cheap for objects that are not synchronisation objects (a type check). */
void ngr_sync_name_hint(PyObject *obj, const char *qualified_name);

#endif
