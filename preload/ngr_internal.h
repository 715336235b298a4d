/* ngr_internal.h — what the files of libnogilrace.so share with each other (never exported).
 *
 * Layers, bottom up:
 *   writer.c   the trace file: creation, chunks, per-stream record writing, sealing, finishing
 *   tracefd.c  the trace's descriptor number: writers vs the program closing or reusing it
 *   meta.c     the metadata stream: string interning and the ngr_define_* records
 *   events.c   the event API (ngr_emit_*, thread events) with re-entrancy guard and errno kept
 *   log.c      options from the environment and the signal-safe ngr_log
 *   real.c     the table of real libc/pthread functions (real_<sym>)
 *   caller.c   which native callers' pthread calls are recorded
 *   signals.c  crash signals: note, then hand over to the previous handler
 *   activate.c constructor, audit hook, interpreter identification, hooks library, exit
 *   audit_entry.c  the audit hook's entry is freed by the allocator that made it
 *   hook_*.c   the only files defining libc/pthread symbols: thin PRE/real/POST wrappers
 */
#ifndef NGR_INTERNAL_H
#define NGR_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ngr_api.h"
#include "trace_format.h"

#define NGR_HIDDEN __attribute__((visibility("hidden")))
#define NGR_TLS __attribute__((tls_model("initial-exec")))
#define NGR_LIKELY(x) __builtin_expect(!!(x), 1)
#define NGR_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- per-thread state (initial-exec TLS: no allocation, no lock on first touch) ------------ */

#define NGR_MAX_RDLOCKS 8
#define NGR_MAX_HELD 16
struct ngr_tls {
    uint32_t num;        /* thread number, 0 = not numbered yet */
    int depth;           /* re-entrancy: > 0 while inside the shim; record only from depth 0 */
    bool ended;          /* END written: later events of this thread are dropped */
    uint8_t n_rd;        /* rwlocks this thread holds for reading (to tell rd_release apart) */
    bool fd_mover;       /* moving the trace's descriptor (tracefd.c) */
    int fd_inside;       /* using the trace's descriptor (ngr_fd_enter nesting, tracefd.c) */
    uint32_t sync_serial; /* synchronisation and thread events this thread wrote (ngr_api.h) */
    const void *rd[NGR_MAX_RDLOCKS];
    /* events.c: a lock release not written yet, a lock released and taken back since the last
     * record (0: none), and the locks this thread holds */
    uint64_t pend_obj, retaken;
    uint8_t n_held;
    struct { uint64_t obj; uint32_t depth; } held[NGR_MAX_HELD];
};
extern __thread struct ngr_tls ngr_t NGR_TLS;

/* events.c: write this thread's deferred lock release now (before any other record of the thread,
 * and before its END); ngr_sync_forget_pending: a new thread (or a fork child's) has none. */
void ngr_sync_flush_pending(void);
void ngr_sync_forget_pending(void);

/* ---- streams (writer.c) -------------------------------------------------------------------- */

/* One writer per stream at a time: the owning thread takes `lock` (0 -> 1) around each record, so
 * the finisher (exit, exec) can seal another thread's chunk without racing it.  2 = closed. */
struct ngr_stream {
    _Atomic int lock;
    uint32_t num;
    uint32_t next_stream_seq;
    unsigned char *base;        /* the mapped chunk, NULL when none */
    uint64_t chunk_index;       /* its index in the file */
    uint64_t *pos, *end;        /* next free word, end of the chunk */
    uint64_t events;            /* records written, for END */
    _Atomic uintptr_t pthread;  /* pthread_t of the live thread (join/detach lookup), 0 = none */
};

#define NGR_MAX_THREADS (1u << 20)

enum ngr_state { NGR_OFF = 0, NGR_ACTIVE = 1, NGR_DISABLED = 2, NGR_FINISHED = 3 };

struct ngr_trace {
    _Atomic int state;          /* enum ngr_state */
    _Atomic bool stopped;       /* ngr_stop(): no more events, file still finished at exit */
    int fd;
    dev_t dev;                  /* identity of the trace file behind fd */
    ino_t ino;
    pid_t pid;                  /* the process that owns this trace (fork/vfork detection) */
    uint32_t chunk_size, header_size;
    struct ngr_file_header *hdr;
    _Atomic uint64_t next_chunk;
    _Atomic uint64_t seq;       /* next sequence number (starts at 1) */
    _Atomic uint32_t next_thread;
    _Atomic uint32_t max_thread;/* highest thread number handed out */
    struct ngr_stream *streams; /* NGR_MAX_THREADS entries, index = stream number */
    char path[4096];
    char dir[4096];
};
extern struct ngr_trace ngr_g;

/* The trace descriptor is moved to this number or above, out of the way of the program's own
 * descriptors (some code expects the low ones free). */
#define NGR_TRACE_FD_MIN 700

/* Options of the writer: none are needed by callers except the directory. */
struct ngr_trace_params {
    const char *dir;
    uint64_t trace_id;          /* 0: random */
    uint64_t parent_trace_id;
    uint32_t parent_thread;
    uint32_t flags;             /* initial header flags (NGR_HDR_FORKED) */
};

/* Creates the trace file and maps its header.  Returns 0, or an errno value (nothing is left
 * behind then).  Sets ngr_g.state = NGR_ACTIVE on success. */
int ngr_trace_open(const struct ngr_trace_params *p);

/* Removes the trace file entirely (activation failed after the file was created). */
void ngr_trace_discard(void);

/* Clean end: END of the calling thread, seal every chunk, END record, chunk_count, then the
 * FINISHED flag (| extra_flags, e.g. NGR_HDR_EXEC) last.  Idempotent. */
void ngr_trace_finish(uint32_t extra_flags);

/* An exec that was prepared with ngr_trace_finish(NGR_HDR_EXEC) failed: reopen for writing. */
void ngr_trace_resume_after_exec(void);

/* Disk full, write error, descriptor gone: one warning line, DISABLED flag, no more records, and
 * a warning NOTE "<what>: <strerror(err)>; tracing stopped here, ..." in the room kept at the end
 * of the metadata chunk (written by the metadata lock's holder: ngr_meta_unlock). */
void ngr_trace_disable(int err, const char *what);
/* A stop's note waits to be written; write it (caller holds the metadata lock). */
bool ngr_trace_note_stop_pending(void);
void ngr_trace_note_stop_locked(void);

/* Every metadata chunk keeps its last words for what is written after tracing stopped: the stop's
 * NOTE with its message (at most NGR_NOTE_FINAL_MAX bytes) and END. */
#define NGR_NOTE_FINAL_MAX 192u
#define NGR_META_RESERVE_WORDS (2u + (NGR_NOTE_FINAL_MAX + 7u) / 8u + 2u + 3u)
/* Writes into that room (metadata stream): never takes a chunk, whatever the state. */
bool ngr_stream_write_final(struct ngr_stream *s, const uint64_t *words, unsigned n);

/* Writes one record (words[0] is word 0) into stream s; seq (0 = none) feeds first_seq.
 * The caller holds no stream lock; returns false when the record was dropped. */
bool ngr_stream_write(struct ngr_stream *s, const uint64_t *words, unsigned n, uint64_t seq);

/* The calling thread's stream, numbering it (and writing BEGIN) on first use.  NULL when the
 * thread has ended or numbers ran out. */
struct ngr_stream *ngr_my_stream(void);

/* A fresh random 64-bit id (getrandom, never 0). */
uint64_t ngr_random_id(void);

/* Fork support: before fork (parent), after fork in the parent, and in the child. */
void ngr_fork_prepare(void);
void ngr_fork_parent(pid_t child);
void ngr_fork_child(void);

static inline bool ngr_on(void)
{
    return atomic_load_explicit(&ngr_g.state, memory_order_relaxed) == NGR_ACTIVE &&
           !atomic_load_explicit(&ngr_g.stopped, memory_order_relaxed);
}

/* ---- the trace's descriptor (tracefd.c) ---------------------------------------------------- */

/* Around every use of ngr_g.fd's number by the writer: while inside, the number is not moved. */
void ngr_fd_enter(void);
void ngr_fd_leave(void);
/* The trace's descriptor number now (-1: none). */
int ngr_trace_fd(void);
/* True when fd is the trace's descriptor and the calling program's close/dup onto it concerns us
 * (this process owns the trace, not a vfork child; not the shim's own call). */
bool ngr_trace_fd_is(int fd);
/* The program is about to close fd or put another file there: the trace moves to another number
 * first (when one is free).  Waits until no writer uses the number. */
void ngr_trace_fd_move_away(int fd);
/* In a fork child: forget the other threads' use of the number. */
void ngr_fd_fork_child(void);

/* ---- metadata (meta.c) --------------------------------------------------------------------- */

void ngr_meta_lock(void);
bool ngr_meta_trylock(void);
void ngr_meta_unlock(void);
/* Append a metadata record; the caller holds the metadata lock. */
bool ngr_meta_write_locked(const uint64_t *words, unsigned n);
/* A NOTE with its message into the room kept at the end of the metadata chunk (no interning, no
 * allocation); the caller holds the metadata lock. */
bool ngr_meta_note_final_locked(unsigned note_kind, const char *msg);
/* Interns a string; the caller holds the metadata lock (shim-internal callers at depth > 0). */
uint32_t ngr_intern_locked(const char *s, size_t len);
/* Forget the intern table (a new, unrelated trace starts: unit tests). */
void ngr_meta_reset(void);

/* ---- events (events.c) --------------------------------------------------------------------- */

/* THREAD record of the calling thread; seq 0 = take the next one. */
void ngr_emit_thread(unsigned kind, uint32_t other, uint64_t extra, uint64_t seq);
uint64_t ngr_next_seq(void);
/* A sync event on a pthread object, defining the object on first sight. */
void ngr_emit_pthread_sync(unsigned kind, const void *obj, unsigned sobj_kind);

/* ---- threads (events.c) -------------------------------------------------------------------- */

uint32_t ngr_new_thread_num(void);
/* Thread number of a live pthread_t, 0 when unknown. */
uint32_t ngr_thread_of(pthread_t th);
void ngr_thread_forget(uint32_t num);
/* In a new thread: take number num (allocated by the creator), write BEGIN. */
void ngr_thread_begin(uint32_t num, uint32_t parent);
/* hook_thread.c: a thread numbered on its first event gets an END at exit too.  Weak: the
 * writer's unit tests link without the hook files. */
void ngr_thread_adopted(void) __attribute__((weak));
/* Thread exit: END, seal and unmap its chunk. */
void ngr_thread_end(void);

/* ---- options and logging (log.c) ----------------------------------------------------------- */

void ngr_options_load(void);
bool ngr_hooks_wanted(void);   /* NOGILRACE_HOOKS != 0 */
/* Formats like ngr_log into buf (always terminated); returns the length. */
size_t ngr_format(char *buf, size_t cap, const char *fmt, __builtin_va_list ap);

/* ---- real functions (real.c) --------------------------------------------------------------- */

#define NGR_REAL_LIST(X)                                                                          \
    X(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))      \
    X(int, pthread_join, (pthread_t, void **))                                                    \
    X(int, pthread_detach, (pthread_t))                                                           \
    X(int, pthread_tryjoin_np, (pthread_t, void **))                                              \
    X(int, pthread_timedjoin_np, (pthread_t, void **, const struct timespec *))                   \
    X(int, pthread_mutex_lock, (pthread_mutex_t *))                                               \
    X(int, pthread_mutex_trylock, (pthread_mutex_t *))                                            \
    X(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *))                 \
    X(int, pthread_mutex_clocklock, (pthread_mutex_t *, clockid_t, const struct timespec *))      \
    X(int, pthread_mutex_unlock, (pthread_mutex_t *))                                             \
    X(int, pthread_mutex_destroy, (pthread_mutex_t *))                                            \
    X(int, pthread_rwlock_rdlock, (pthread_rwlock_t *))                                           \
    X(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *))                                        \
    X(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *, const struct timespec *))             \
    X(int, pthread_rwlock_wrlock, (pthread_rwlock_t *))                                           \
    X(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *))                                        \
    X(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *, const struct timespec *))             \
    X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t *, clockid_t, const struct timespec *))  \
    X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t *, clockid_t, const struct timespec *))  \
    X(int, pthread_rwlock_unlock, (pthread_rwlock_t *))                                           \
    X(int, pthread_rwlock_destroy, (pthread_rwlock_t *))                                          \
    X(int, sem_wait, (sem_t *))                                                                   \
    X(int, sem_trywait, (sem_t *))                                                                \
    X(int, sem_timedwait, (sem_t *, const struct timespec *))                                     \
    X(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *))                          \
    X(int, sem_post, (sem_t *))                                                                   \
    X(int, sem_destroy, (sem_t *))                                                                \
    X(pid_t, fork, (void))                                                                        \
    X(int, execve, (const char *, char *const[], char *const[]))                                  \
    X(int, execv, (const char *, char *const[]))                                                  \
    X(int, execvp, (const char *, char *const[]))                                                 \
    X(int, execvpe, (const char *, char *const[], char *const[]))                                 \
    X(int, fexecve, (int, char *const[], char *const[]))                                          \
    X(void, _exit, (int))                                                                         \
    X(int, close, (int))                                                                          \
    X(int, dup2, (int, int))                                                                      \
    X(int, dup3, (int, int, int))                                                                 \
    X(int, close_range, (unsigned, unsigned, int))                                                \
    X(void, closefrom, (int))

/* Condition variables: the GLIBC_2.3.2 versions (the current ABI), by dlvsym. */
#define NGR_REAL_COND_LIST(X)                                                                     \
    X(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))                              \
    X(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *)) \
    X(int, pthread_cond_signal, (pthread_cond_t *))                                               \
    X(int, pthread_cond_broadcast, (pthread_cond_t *))

#define NGR_REAL_DECL(ret, name, args) extern ret(*real_##name) args;
NGR_REAL_LIST(NGR_REAL_DECL)
NGR_REAL_COND_LIST(NGR_REAL_DECL)
#undef NGR_REAL_DECL

/* Resolves the whole table once (constructor); hooks call it too if they run first. */
void ngr_real_resolve(void);

/* ---- callers (caller.c) -------------------------------------------------------------------- */

/* Remember the code ranges of the interpreter, libc, the loader and the shim: pthread calls made
 * from there are the runtime's own, not the program's. */
void ngr_callers_setup(const void *python_sym);
void ngr_callers_exclude_object_of(const void *addr);
bool ngr_caller_traced(const void *ra);
void ngr_callers_record_all(bool all);

/* ---- native stacks (nstack.c) -------------------------------------------------------------- */

/* Loads libunwind when NOGILRACE_NATIVE_STACKS=1 (activation only: never in other processes). */
void ngr_nstack_init(void);
/* Native stack id of the caller (0 = none or disabled).  Slow; sync events only. */
uint32_t ngr_native_stack_id(void);

/* ---- the audit hook's entry (audit_entry.c) ------------------------------------------------ */

typedef int (*ngr_audit_hook_fn)(const char *event, void *args, void *data);
typedef int (*ngr_audit_add_fn)(ngr_audit_hook_fn hook, void *data); /* PySys_AddAuditHook */
/* Registers hook through add_hook (before Py_Initialize), learning which raw allocator made
 * CPython's entry for it.  Returns add_hook's result. */
int ngr_audit_hook_add(ngr_audit_add_fn add_hook, ngr_audit_hook_fn hook);
/* The audit event "cpython._PySys_ClearAuditHooks": the entries are freed next, with the current
 * raw allocator; make sure ours goes to the allocator that made it. */
void ngr_audit_hooks_clearing(void);

/* ---- signals (signals.c) ------------------------------------------------------------------- */

void ngr_signals_install(void);

#endif
