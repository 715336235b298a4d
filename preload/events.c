/* events.c — the event API: accesses, synchronisation, thread life.
 *
 * Every entry point checks that tracing is on and that the thread is not inside the shim already
 * (depth counter in initial-exec TLS), and keeps errno: the program must not see us.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <string.h>

/* ---- state ---------------------------------------------------------------------------------- */

bool ngr_tracing(void) { return ngr_on(); }

void ngr_stop(void) { atomic_store(&ngr_g.stopped, true); }

uint32_t ngr_thread_num(void)
{
    if (ngr_t.num || !ngr_on() || ngr_t.depth)
        return ngr_t.num;
    int saved = errno;
    ngr_t.depth++;
    ngr_my_stream();
    ngr_t.depth--;
    errno = saved;
    return ngr_t.num;
}

uint64_t ngr_next_seq(void)
{
    return atomic_fetch_add_explicit(&ngr_g.seq, 1, memory_order_relaxed);
}

/* ---- events --------------------------------------------------------------------------------- */

void ngr_emit_access(unsigned kind, uint32_t var_id, uint64_t key_id, uint64_t frame_id,
                     uint32_t stack_id)
{
    if (!ngr_on() || ngr_t.depth)
        return;
    int saved = errno;
    ngr_t.depth++;
    struct ngr_stream *s = ngr_my_stream();
    if (s) {
        ngr_sync_flush_pending();
        uint64_t w[4] = {ngr_word0(NGR_OP_ACCESS, 4, kind, var_id), key_id, frame_id, stack_id};
        ngr_stream_write(s, w, 4, 0);
    }
    ngr_t.depth--;
    errno = saved;
}

uint32_t ngr_thread_sync_serial(void)
{
    return ngr_t.sync_serial;
}

/* news: the record changes what the thread holds or where it stands in happens-before, so its
 * sync_serial moves (not so the two records of a lock re-take written late: see below). */
static void write_sync(struct ngr_stream *s, unsigned kind, uint64_t obj_id, uint32_t count,
                       uint32_t stack_id, uint32_t native, bool news)
{
    if (news)
        ngr_t.sync_serial++;
    uint64_t seq = ngr_next_seq();
    uint64_t w[4] = {ngr_word0(NGR_OP_SYNC, 4, kind, stack_id), seq, obj_id,
                     ngr_pack32(count, native)};
    ngr_stream_write(s, w, 4, seq);
}

/* ---- deferred lock releases ------------------------------------------------------------------
 *
 * A hot loop `with lock: x += 1` writes two lock records per round, and because they move the
 * thread's sync_serial, the hooks' repeat filter (record.c) can drop none of its accesses.  Yet
 * a lock released and taken back by the same thread with nothing recorded in between changes
 * nothing the analysis derives from it but one thing: locks move no clock, the locksets of the
 * recorded accesses are the same, and only a read-modify-write window that spans the gap loses
 * the lock (the analyzer's "lock dropped and re-taken in between", a lost update).  So:
 *
 *   - the release of a lock the thread holds at depth 1 is kept back (pend_obj); the thread's
 *     next record writes it first;
 *   - if that next record is the acquire of the same lock, neither is written now: the lock is
 *     marked re-taken (retaken), and the thread's next written record is preceded by the pair
 *     RELEASE, ACQUIRE, which tells the analyzer the lock was dropped in between.  Those two do
 *     not move sync_serial: accesses on either side repeat each other for the repeat filter
 *     (same locks, same happens-before position), which is what lets it drop the loop's rounds;
 *     any round it records gets the pair before it, so a window of a recorded read and a
 *     recorded write always sees the re-take.
 *
 * Another thread acquiring the lock in between sees it held by both in the trace: the locksets
 * say what each held, which is all the analysis uses.  A release by a thread that does not hold
 * the lock (a threading.Lock used as a signal: a hand-off the analyzer turns into an edge) is
 * written at once; so is anything the thread cannot track (more than NGR_MAX_HELD locks).  A
 * thread killed with a release kept back leaves a trace in which it still holds the lock.
 * NOGILRACE_EVERY_EVENT=1 writes every release and acquire as it happens. */

static int held_find(uint64_t obj)
{
    for (int i = 0; i < ngr_t.n_held; i++)
        if (ngr_t.held[i].obj == obj)
            return i;
    return -1;
}

static void held_acquire(uint64_t obj, uint32_t depth)
{
    int i = held_find(obj);
    if (i >= 0)
        ngr_t.held[i].depth += depth;
    else if (ngr_t.n_held < NGR_MAX_HELD)
        ngr_t.held[ngr_t.n_held++] = (__typeof__(ngr_t.held[0])){obj, depth};
}

/* The thread releases one level of obj: true when it held it at depth 1 (now not held). */
static bool held_release(uint64_t obj, bool all)
{
    int i = held_find(obj);
    if (i < 0)
        return false;
    if (!all && ngr_t.held[i].depth > 1) {
        ngr_t.held[i].depth--;
        return false;
    }
    ngr_t.held[i] = ngr_t.held[--ngr_t.n_held];
    return !all;
}

void ngr_sync_flush_pending(void)
{
    if (!ngr_t.retaken && !ngr_t.pend_obj)
        return;
    struct ngr_stream *s = ngr_my_stream();
    if (ngr_t.retaken && s) {
        write_sync(s, NGR_SYNC_RELEASE, ngr_t.retaken, 0, 0, 0, false);
        write_sync(s, NGR_SYNC_ACQUIRE, ngr_t.retaken, 0, 0, 0, false);
    }
    if (ngr_t.pend_obj && s)
        write_sync(s, NGR_SYNC_RELEASE, ngr_t.pend_obj, 0, 0, 0, true);
    ngr_t.retaken = ngr_t.pend_obj = 0;
}

void ngr_sync_forget_pending(void)
{
    ngr_t.pend_obj = ngr_t.retaken = 0;
    ngr_t.n_held = 0;
}

static uint32_t (*stack_provider)(void);

void ngr_set_stack_provider(uint32_t (*fn)(void))
{
    stack_provider = fn;
}

static void emit_sync_inner(unsigned kind, uint64_t obj_id, uint32_t count, uint32_t stack_id)
{
    struct ngr_stream *s = ngr_my_stream();
    if (!s)
        return;
    ngr_sync_flush_pending();
    uint32_t native = ngr_native_stack_id();
    if (kind == NGR_SYNC_ACQUIRE)
        held_acquire(obj_id, 1);
    else if (kind == NGR_SYNC_ACQUIRE_ALL)
        held_acquire(obj_id, count ? count : 1);
    else if (kind == NGR_SYNC_RELEASE_ALL)
        held_release(obj_id, true);
    write_sync(s, kind, obj_id, count, stack_id, native, true);
}

/* Keeps back the release of a lock the thread holds at depth 1 (see above); no stack is made for
 * it: a lockset needs the release, not where it was. */
static void defer_release(uint64_t obj_id)
{
    if (ngr_t.pend_obj) { /* another lock's release kept back: written now (a re-take stays
                           * marked: where its pair goes among lock records does not matter) */
        ngr_t.depth++;
        struct ngr_stream *s = ngr_my_stream();
        if (s)
            write_sync(s, NGR_SYNC_RELEASE, ngr_t.pend_obj, 0, 0, 0, true);
        ngr_t.depth--;
    }
    ngr_t.pend_obj = obj_id;
}

void ngr_emit_sync(unsigned kind, uint64_t obj_id, uint32_t count, uint32_t stack_id)
{
    if (!ngr_on() || ngr_t.depth)
        return;
    int saved = errno;
    if (kind == NGR_SYNC_ACQUIRE && obj_id && ngr_t.pend_obj == obj_id) {
        /* released and taken back: neither is written now (above) */
        ngr_t.pend_obj = 0;
        if (ngr_t.retaken && ngr_t.retaken != obj_id) {
            ngr_t.depth++;
            ngr_sync_flush_pending(); /* one re-taken lock is remembered: write the other's */
            ngr_t.depth--;
        }
        ngr_t.retaken = obj_id;
        held_acquire(obj_id, 1);
    } else if (kind == NGR_SYNC_RELEASE && held_release(obj_id, false) &&
               !ngr_options()->every_event) {
        defer_release(obj_id);
    } else {
        /* A stack asked for lazily is made now, outside the shim (defining a new stack writes
         * metadata), and only for a record written at once: a hand-off's release says where the
         * signal was given. */
        if (stack_id == NGR_STACK_LAZY)
            stack_id = stack_provider ? stack_provider() : 0;
        ngr_t.depth++;
        emit_sync_inner(kind, obj_id, count, stack_id);
        ngr_t.depth--;
    }
    errno = saved;
}

/* Called by the shim itself (hooks, fork); depth is managed by the caller or here. */
void ngr_emit_thread(unsigned kind, uint32_t other, uint64_t extra, uint64_t seq)
{
    if (!ngr_on())
        return;
    int saved = errno;
    ngr_t.depth++;
    struct ngr_stream *s = ngr_my_stream();
    if (s) {
        ngr_sync_flush_pending();
        if (!seq)
            seq = ngr_next_seq();
        ngr_t.sync_serial++;
        uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, kind, other), seq, extra};
        ngr_stream_write(s, w, 3, seq);
    }
    ngr_t.depth--;
    errno = saved;
}

/* ---- pthread objects ------------------------------------------------------------------------ */

/* Addresses of pthread objects already named in the metadata: a lock-free open-addressing set.
 * When it is full, objects are simply left unnamed (the analyzer names them by address), with
 * one warning note the first time; never a name per event. */
#define SEEN_CAP (1u << 16)
static _Atomic uintptr_t seen[SEEN_CAP];
static _Atomic int seen_full;

/* 1: first sight, name it; 0: seen before; -1: no room (left unnamed). */
static int first_sight(const void *obj)
{
    uintptr_t a = (uintptr_t)obj;
    size_t j = (size_t)((a >> 3) * 0x9e3779b97f4a7c15ull >> 48) & (SEEN_CAP - 1);
    for (unsigned probe = 0; probe < 64; probe++, j = (j + 1) & (SEEN_CAP - 1)) {
        uintptr_t cur = atomic_load_explicit(&seen[j], memory_order_relaxed);
        if (cur == a)
            return 0;
        if (cur == 0) {
            if (atomic_compare_exchange_strong(&seen[j], &cur, a))
                return 1;
            if (cur == a)
                return 0;
        }
    }
    return -1;
}

static const char *sobj_name(unsigned k)
{
    switch (k) {
    case NGR_SOBJ_PTHREAD_MUTEX: return "pthread_mutex";
    case NGR_SOBJ_PTHREAD_RWLOCK: return "pthread_rwlock";
    case NGR_SOBJ_PTHREAD_SEM: return "sem";
    case NGR_SOBJ_PTHREAD_COND: return "pthread_cond";
    default: return "object";
    }
}

void ngr_emit_pthread_sync(unsigned kind, const void *obj, unsigned sobj_kind)
{
    if (!ngr_on() || ngr_t.depth)
        return;
    int saved = errno;
    ngr_t.depth++;
    int first = first_sight(obj);
    if (first < 0 && !atomic_load_explicit(&seen_full, memory_order_relaxed) &&
        !atomic_exchange(&seen_full, 1)) {
        ngr_t.depth--;
        ngr_note(NGR_NOTE_WARNING, "pthread object table full (65536 entries): pthread objects "
                                   "first seen from now on are named by their address only");
        ngr_t.depth++;
    }
    if (first > 0) {
        char name[64];
        size_t n = 0;
        const char *k = sobj_name(sobj_kind);
        name[n++] = '<';
        while (*k)
            name[n++] = *k++;
        name[n++] = ' ';
        name[n++] = '0';
        name[n++] = 'x';
        uintptr_t a = (uintptr_t)obj;
        int shift = 60;
        while (shift > 0 && !((a >> shift) & 15))
            shift -= 4;
        for (; shift >= 0; shift -= 4)
            name[n++] = "0123456789abcdef"[(a >> shift) & 15];
        name[n++] = '>';
        ngr_t.depth--;
        uint32_t sid = ngr_intern_string(name, n);
        ngr_define_sync_obj((uint64_t)(uintptr_t)obj, sobj_kind, sid);
        ngr_t.depth++;
    }
    emit_sync_inner(kind, (uint64_t)(uintptr_t)obj, 0, 0);
    ngr_t.depth--;
    errno = saved;
}
