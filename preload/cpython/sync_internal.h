/* sync_internal.h — what sync.c, sync_py.c, sync_frame.c, threads.c and gil.c share (hidden).
 *
 * Object ids: a synchronisation object's id is its address (Python objects are at least 8-byte
 * aligned, so ids never collide with each other while both objects are alive).  C lock types get
 * NGR_SYNC_FREE from their tp_dealloc, so a reused address starts a new object.
 */
#ifndef NGR_CPYTHON_SYNC_INTERNAL_H
#define NGR_CPYTHON_SYNC_INTERNAL_H

#include <Python.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ngr_api.h"
#include "pystack.h"
#include "trace_format.h"

#define NGR_SYNC_HIDDEN __attribute__((visibility("hidden")))

/* ---- emitting ------------------------------------------------------------------------------ */

static inline uint64_t ngr_sync_id(const void *obj) { return (uint64_t)(uintptr_t)obj; }

/* ---- ids of C objects with creation/dealloc hooks (sync_ids.c) ------------------------------ */

NGR_SYNC_HIDDEN int ngr_sync_ids_init(void);
/* A fresh id for an object just created (remembered until ngr_sync_ids_drop). */
NGR_SYNC_HIDDEN uint64_t ngr_sync_ids_new(const void *obj);
/* Its id: the one ngr_sync_ids_new gave, else the address. */
NGR_SYNC_HIDDEN uint64_t ngr_sync_ids_get(const void *obj);
/* Its id, forgotten (from tp_dealloc); 0 when it had none.  Objects without a table id (created
 * before tracing, Condition waiter locks) get no FREE: their address ids are never handed out
 * again, since whatever is created later at that address gets a table id. */
NGR_SYNC_HIDDEN uint64_t ngr_sync_ids_drop(const void *obj);
/* True the first time it is called for `id` (until the object with that id is dropped): the
 * caller may name it.  Lock-free, no allocation; true when the table is missing or crowded. */
NGR_SYNC_HIDDEN bool ngr_sync_ids_claim_name(uint64_t id);

/* The Python stack of a sync record: made by the shim only if it writes the record at once (a
 * lock's plain release is kept back and written without one, or not at all if the lock is taken
 * back right away: events.c).  RELEASE_ALL (Condition.wait), read releases and frees carry none:
 * a lockset needs the release, not where it was (FREE happens wherever the last reference goes). */
static inline uint32_t sync_stack(unsigned kind)
{
    return kind == NGR_SYNC_FREE || kind == NGR_SYNC_RELEASE_ALL || kind == NGR_SYNC_RD_RELEASE
               ? 0 : NGR_STACK_LAZY;
}

/* Emit with an explicit id (C objects: ngr_sync_ids_get). */
static inline void ngr_sync_emit_id(unsigned kind, uint64_t id, uint32_t count)
{
    if (id && ngr_tracing())
        ngr_emit_sync(kind, id, count, sync_stack(kind));
}

/* With the object's address as its id; stacks as sync_stack says (the same interned stacks as
 * accesses: pystack.h). */
static inline void ngr_sync_emit(unsigned kind, const void *obj, uint32_t count)
{
    if (ngr_tracing())
        ngr_emit_sync(kind, ngr_sync_id(obj), count, sync_stack(kind));
}

/* ---- naming (sync.c) ----------------------------------------------------------------------- */

/* Define obj as a sync object of `sobj_kind` named "<what created at file.py:LINE>", the line being
 * the innermost Python frame outside the stdlib threading/queue/futures modules.  No Python code
 * runs; a Python exception is never left set. */
NGR_SYNC_HIDDEN void ngr_sync_define_created(PyObject *obj, unsigned sobj_kind, const char *what);
/* The same for an explicit id. */
NGR_SYNC_HIDDEN void ngr_sync_define_created_id(uint64_t id, unsigned sobj_kind, const char *what);

/* ---- frames (sync_frame.c, version-specific) ----------------------------------------------- */

/* Code object of the innermost Python frame of the calling thread, borrowed; NULL if none. */
NGR_SYNC_HIDDEN PyObject *ngr_sync_cur_code(void);
/* First local (a method's `self`) of that frame, borrowed; NULL if unset or no frame. */
NGR_SYNC_HIDDEN PyObject *ngr_sync_cur_self(void);

/* ---- Condition internals (sync.c): the code objects that use waiter locks ------------------ */

/* threading.Condition.wait / .notify code objects, set when threading is patched. */
extern _Atomic(PyObject *) ngr_sync_cond_wait_code;
extern _Atomic(PyObject *) ngr_sync_cond_notify_code;

/* ---- Python-level wrappers (sync_py.c) ----------------------------------------------------- */

enum ngr_wrap_mode {
    NGR_W_SEND_PRE = 1u << 0,   /* SEND on self before the call */
    NGR_W_RECV_OK = 1u << 1,    /* RECV on self after a call that returned (did not raise) */
    NGR_W_RECV_TRUE = 1u << 2,  /* RECV on self after a call that returned True */
    NGR_W_NAME_INIT = 1u << 3,  /* __init__: name self after it returned ("<what created at ..>") */
    NGR_W_THREAD_BOOT = 1u << 4,/* Thread._bootstrap_inner: thread name, SEND on the handle at end */
    NGR_W_THREAD_RENAME = 1u << 5, /* Thread.name setter: record the new name of the own thread */
};

NGR_SYNC_HIDDEN int ngr_sync_py_init(void);
/* Replace cls.<name> (a plain Python function defined on cls) by a wrapper.  0 ok, -1 with no
 * exception set when it is missing or not a function (left alone). */
NGR_SYNC_HIDDEN int ngr_sync_wrap_method(PyObject *cls, const char *name, unsigned mode,
                                         unsigned sobj_kind, const char *what);

/* Module patches, run once when a module is fully imported (or already at init). */
NGR_SYNC_HIDDEN void ngr_sync_module_loaded(const char *name, PyObject *module);

/* Per-class kind lookup for name hints: the sync kind of obj's class, 0 if none. */
NGR_SYNC_HIDDEN unsigned ngr_sync_py_kind(PyObject *obj);

/* ---- C method tables (sync_wrap.h; patched in sync.c, sync_cqueue.c, threads.c) -------------------------------------------------------------- */

NGR_SYNC_HIDDEN int ngr_sync_patch_simplequeue(PyObject *queue_module);
/* The import lock and the warnings lock as RLocks "<import lock>", "<warnings lock>"
 * (sync_interp_locks.c). */
NGR_SYNC_HIDDEN int ngr_sync_interp_locks_init(void);

/* ---- threads.c / gil.c --------------------------------------------------------------------- */

NGR_SYNC_HIDDEN int ngr_threads_init(void);
/* Thread._bootstrap_inner entry / exit, in the new thread. */
NGR_SYNC_HIDDEN void ngr_threads_boot_begin(PyObject *thread);
NGR_SYNC_HIDDEN void ngr_threads_boot_end(PyObject *thread);
/* Thread.name was set on `thread`: re-record the name if it is the calling thread's Thread. */
NGR_SYNC_HIDDEN void ngr_threads_renamed(PyObject *thread);
/* threading was imported: remember its main Thread object (when called on thread 1). */
NGR_SYNC_HIDDEN void ngr_threads_set_main(PyObject *main_thread);

NGR_SYNC_HIDDEN int ngr_gil_init(void);
/* A module landed in sys.modules: if it is an extension that keeps the GIL on, note it. */
NGR_SYNC_HIDDEN void ngr_gil_check(PyObject *module_name, PyObject *module);

#endif
