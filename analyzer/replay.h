/* replay.h — the events of one trace in replay order, with each thread's lockset replayed.
 *
 * Order: within a thread stream, chunks by stream_seq and records in order; across streams, by
 * the sequence numbers of SYNC/THREAD records: the thread whose next sync record has the lowest
 * seq goes next, and its access records up to that sync record come first.  Accesses carry no
 * seq: they sit between the sync records of their thread, which orders them enough for lockset
 * and happens-before.  Access records after a thread's last sync record come at the very end.
 *
 * Locksets: ACQUIRE/RELEASE with RLock depth, RD_ACQUIRE/RD_RELEASE (shared mode),
 * RELEASE_ALL/ACQUIRE_ALL (Condition.wait on an RLock), and a Lock released by a thread that does
 * not hold it (legal for threading.Lock) taken out of the set of the thread that does.  A sync
 * event's effect is applied before ngr_replay_next() returns it, so `held` is the set after it.
 *
 * Memory: one cursor and one held-lock array per thread stream; nothing per event.
 */
#ifndef NGR_AN_REPLAY_H
#define NGR_AN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

#define NGR_MAX_HELD 256 /* locks held at once by one thread; more are not tracked */

struct ngr_held {
    uint64_t obj;
    uint64_t serial;  /* unique per acquisition: "held across" two accesses = same serial */
    uint32_t depth;
    bool rd;          /* shared (reader) mode */
};

struct ngr_thread {
    uint32_t num;     /* stream number = thread number */
    const struct ngr_stream_idx *s;
    struct ngr_held *held;
    size_t nheld, held_cap;
    uint64_t lock_version; /* bumped whenever held changes */
    /* cursors: emission position, and the position of the next sync record (look-ahead) */
    size_t chunk, la_chunk;
    uint64_t off, la_off;
    uint64_t next_seq;     /* seq of the sync record at la_*, UINT64_MAX when none is left */
    size_t checked;        /* chunks [0, checked) passed their deferred checks (look-ahead enters first) */
    bool done;
};

struct ngr_event {
    unsigned op;        /* NGR_OP_ACCESS, NGR_OP_SYNC, NGR_OP_THREAD */
    unsigned kind;      /* access / sync / thread kind */
    bool atomic;        /* access: NGR_ACC_FLAG_ATOMIC */
    bool handoff;       /* sync RELEASE by a thread that did not hold the lock, taken from the one that did
                           (a threading.Lock used as a signal: the next acquire happens after it) */
    uint32_t tix;       /* index into replay->threads */
    uint32_t var_id;    /* access */
    uint64_t key_id;    /* access */
    uint64_t frame_id;  /* access */
    uint32_t stack_id, native_stack_id;
    uint64_t seq;       /* sync, thread */
    uint64_t obj;       /* sync */
    uint32_t count;     /* sync: depth for *_ALL */
    uint32_t other;     /* thread: the other thread's number */
    uint64_t extra;     /* thread: child trace id (FORK), OS tid (BEGIN) */
                        /* mark (NGR_OP_MARK, only with want_marks): kind = its flags (ngr_mark_phase |
                           NGR_MARK_BEGIN), var_id = the label's string id */
    uint64_t offset;    /* byte offset of the record in the file */
};

struct ngr_heap_ent {
    uint64_t seq;  /* the thread's next_seq */
    uint32_t ix;   /* thread index */
};

struct ngr_replay {
    const struct ngr_trace *t;
    struct ngr_thread *threads;  /* one per event stream, by stream number */
    size_t nthreads;
    struct ngr_map thread_ix;    /* thread number + 1 -> index */
    struct ngr_heap_ent *heap;   /* threads waiting, ordered by (next_seq, num) */
    size_t nheap;
    int cur;                     /* thread being emitted up to its next sync record, or -1 */
    uint64_t serial;
    uint64_t events;             /* access + sync + thread records returned */
    bool failed;                 /* a chunk failed its deferred checks: no more events; err says why */
    bool want_marks;             /* return MARK records as events (set after init; else skipped) */
    char err[512];
};

void ngr_replay_init(struct ngr_replay *r, const struct ngr_trace *t);
/* Next event in replay order; false at the end, or when a chunk opened with deferred checks
 * (NGR_TRACE_DEFER_CHECKS) failed them: then r->failed is set and r->err has the one-line
 * message.  Only the fields of the event's kind are set (an access leaves seq, obj, count, other
 * and extra as they were). */
static inline bool ngr_replay_next(struct ngr_replay *r, struct ngr_event *ev);
bool ngr_replay_next_slow(struct ngr_replay *r, struct ngr_event *ev);
void ngr_replay_free(struct ngr_replay *r);

/* Index of thread number num, or -1 when it has no stream in this trace. */
int ngr_replay_thread_index(const struct ngr_replay *r, uint32_t num);

static inline void ngr_replay_fill_access(const struct ngr_trace *t, uint64_t off, uint64_t w0, uint32_t tix,
                                          struct ngr_event *ev)
{
    uint64_t w3 = ngr_trace_word(t, off, 3);
    unsigned fl = ngr_w0_flags(w0);
    ev->op = NGR_OP_ACCESS;
    ev->kind = fl & NGR_ACC_KIND_MASK;
    ev->atomic = (fl & NGR_ACC_FLAG_ATOMIC) != 0;
    ev->tix = tix;
    ev->var_id = ngr_w0_arg(w0);
    ev->key_id = ngr_trace_word(t, off, 1);
    ev->frame_id = ngr_trace_word(t, off, 2);
    ev->stack_id = (uint32_t)w3;
    ev->native_stack_id = (uint32_t)(w3 >> 32);
    ev->offset = off;
}

static inline void ngr_replay_fill_mark(uint64_t off, uint64_t w0, uint32_t tix, struct ngr_event *ev)
{
    ev->op = NGR_OP_MARK;
    ev->kind = ngr_w0_flags(w0);
    ev->tix = tix;
    ev->var_id = ngr_w0_arg(w0);
    ev->offset = off;
}

/* The common case inline: the current thread has access records left before its next sync
 * record in this chunk (the look-ahead already walked them, so no checks are needed).  Marks are
 * not counted in events (they are not accesses, and a 1.0 reader's count stays the same). */
static inline bool ngr_replay_next(struct ngr_replay *r, struct ngr_event *ev)
{
    if (r->cur >= 0) {
        struct ngr_thread *th = &r->threads[r->cur];
        while (th->chunk == th->la_chunk && th->off < th->la_off) {
            uint64_t off = th->off;
            uint64_t w0 = ngr_trace_word(r->t, off, 0);
            th->off += 8ull * ngr_w0_words(w0);
            if (ngr_w0_op(w0) == NGR_OP_ACCESS) {
                ngr_replay_fill_access(r->t, off, w0, (uint32_t)r->cur, ev);
                r->events++;
                return true;
            }
            if (ngr_w0_op(w0) == NGR_OP_MARK && r->want_marks) {
                ngr_replay_fill_mark(off, w0, (uint32_t)r->cur, ev);
                return true;
            }
        }
    }
    return ngr_replay_next_slow(r, ev);
}

#endif
