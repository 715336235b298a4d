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
        uint64_t w[4] = {ngr_word0(NGR_OP_ACCESS, 4, kind, var_id), key_id, frame_id, stack_id};
        ngr_stream_write(s, w, 4, 0);
    }
    ngr_t.depth--;
    errno = saved;
}

static void emit_sync_inner(unsigned kind, uint64_t obj_id, uint32_t count, uint32_t stack_id)
{
    struct ngr_stream *s = ngr_my_stream();
    if (!s)
        return;
    uint32_t native = ngr_native_stack_id();
    uint64_t seq = ngr_next_seq();
    uint64_t w[4] = {ngr_word0(NGR_OP_SYNC, 4, kind, stack_id), seq, obj_id,
                     ngr_pack32(count, native)};
    ngr_stream_write(s, w, 4, seq);
}

void ngr_emit_sync(unsigned kind, uint64_t obj_id, uint32_t count, uint32_t stack_id)
{
    if (!ngr_on() || ngr_t.depth)
        return;
    int saved = errno;
    ngr_t.depth++;
    emit_sync_inner(kind, obj_id, count, stack_id);
    ngr_t.depth--;
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
        if (!seq)
            seq = ngr_next_seq();
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
