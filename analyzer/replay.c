/* replay.c — see replay.h. */
#include "replay.h"

#include <stdlib.h>
#include <string.h>

/* ---- cursors --------------------------------------------------------------------------------- */

static inline const struct ngr_stream_idx *stream_of(const struct ngr_replay *r, const struct ngr_thread *th)
{
    (void)r;
    return th->s;
}

/* Moves (chunk, off) to a valid record position or to the end (chunk == nchunks). */
static inline void settle(const struct ngr_stream_idx *s, size_t *chunk, uint64_t *off)
{
    while (*chunk < s->nchunks && *off >= s->chunks[*chunk].data_end) {
        (*chunk)++;
        if (*chunk < s->nchunks)
            *off = s->chunks[*chunk].data;
    }
}

/* Finds the next SYNC/THREAD record at or after the look-ahead position.  Records were framed
 * when the trace was opened (sizes valid, none crossing its chunk's end), so the walk trusts
 * their sizes. */
static void look_ahead(struct ngr_replay *r, struct ngr_thread *th)
{
    const struct ngr_stream_idx *s = th->s;
    size_t ch = th->la_chunk;
    uint64_t off = th->la_off;
    for (; ch < s->nchunks; off = ++ch < s->nchunks ? s->chunks[ch].data : off) {
        if (ch >= th->checked) { /* first entry into this chunk: the checks open left to us */
            if (s->chunks[ch].deferred && ngr_trace_check_chunk(r->t, &s->chunks[ch], r->err, sizeof r->err)) {
                r->failed = true;
                break;
            }
            th->checked = ch + 1;
        }
        for (uint64_t end = s->chunks[ch].data_end; off < end;) {
            uint64_t w0 = ngr_trace_word(r->t, off, 0);
            unsigned op = ngr_w0_op(w0);
            if (op == NGR_OP_SYNC || op == NGR_OP_THREAD) {
                th->next_seq = ngr_trace_word(r->t, off, 1);
                th->la_chunk = ch;
                th->la_off = off;
                return;
            }
            off += 8ull * ngr_w0_words(w0);
        }
    }
    th->next_seq = UINT64_MAX;
    th->la_chunk = ch;
    th->la_off = off;
}

/* ---- heap of threads by (next_seq, num) -------------------------------------------------------
 * Entries carry their key: threads are indexed in stream-number order, so (next_seq, index) orders
 * like (next_seq, num) without touching the thread structs. */

static inline bool before(const struct ngr_heap_ent *x, const struct ngr_heap_ent *y)
{
    return x->seq != y->seq ? x->seq < y->seq : x->ix < y->ix;
}

static void heap_push(struct ngr_replay *r, uint32_t ix)
{
    struct ngr_heap_ent e = {r->threads[ix].next_seq, ix};
    size_t i = r->nheap++;
    while (i && before(&e, &r->heap[(i - 1) / 2])) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = e;
}

static uint32_t heap_pop(struct ngr_replay *r)
{
    uint32_t top = r->heap[0].ix;
    struct ngr_heap_ent e = r->heap[--r->nheap];
    size_t i = 0, n = r->nheap;
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && before(&r->heap[l + 1], &r->heap[l]))
            m = l + 1;
        if (!before(&r->heap[m], &e))
            break;
        r->heap[i] = r->heap[m];
        i = m;
    }
    if (n)
        r->heap[i] = e;
    return top;
}

/* ---- init --------------------------------------------------------------------------------------- */

void ngr_replay_init(struct ngr_replay *r, const struct ngr_trace *t)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->cur = -1;
    r->threads = ngr_xcalloc(t->nstreams ? t->nstreams : 1, sizeof *r->threads);
    r->heap = ngr_xcalloc(t->nstreams ? t->nstreams : 1, sizeof *r->heap);
    for (size_t i = 0; i < t->nstreams; i++) {
        const struct ngr_stream_idx *s = &t->streams[i];
        if (s->stream == 0 || !s->nchunks)
            continue;
        struct ngr_thread *th = &r->threads[r->nthreads];
        th->num = s->stream;
        th->s = s;
        th->off = th->la_off = s->chunks[0].data;
        ngr_map_put(&r->thread_ix, (uint64_t)th->num + 1, (uint32_t)r->nthreads);
        look_ahead(r, th);
        /* it read the first chunk(s) long before most threads run: hand them back now, or a trace
         * of thousands of short threads would be resident whole from the start */
        for (size_t k = 0; k <= th->la_chunk && k < s->nchunks; k++)
            ngr_trace_release_chunk(t, &s->chunks[k]);
        heap_push(r, (uint32_t)r->nthreads);
        r->nthreads++;
    }
}

void ngr_replay_free(struct ngr_replay *r)
{
    for (size_t i = 0; i < r->nthreads; i++)
        free(r->threads[i].held);
    free(r->threads);
    free(r->heap);
    ngr_map_free(&r->thread_ix);
    memset(r, 0, sizeof *r);
}

int ngr_replay_thread_index(const struct ngr_replay *r, uint32_t num)
{
    const uint32_t *ix = ngr_map_get_maybe(&r->thread_ix, (uint64_t)num + 1);
    return ix ? (int)*ix : -1;
}

/* ---- locksets ----------------------------------------------------------------------------------- */

static struct ngr_held *held_find(struct ngr_thread *th, uint64_t obj, bool rd)
{
    for (size_t i = 0; i < th->nheld; i++)
        if (th->held[i].obj == obj && th->held[i].rd == rd)
            return &th->held[i];
    return NULL;
}

static void held_remove(struct ngr_thread *th, struct ngr_held *h)
{
    for (size_t i = (size_t)(h - th->held); i + 1 < th->nheld; i++) /* a few entries: no memmove call */
        th->held[i] = th->held[i + 1];
    th->nheld--;
    th->lock_version++;
}

static void held_add(struct ngr_replay *r, struct ngr_thread *th, uint64_t obj, bool rd, uint32_t depth)
{
    if (th->nheld >= NGR_MAX_HELD)
        return;
    if (th->nheld >= th->held_cap)
        NGR_GROW(th->held, th->held_cap, th->nheld + 1);
    th->held[th->nheld++] = (struct ngr_held){obj, ++r->serial, depth, rd};
    th->lock_version++;
}

/* Applies a sync record to the locksets; true when it is a hand-off (see ngr_event.handoff). */
static bool apply_sync(struct ngr_replay *r, struct ngr_thread *th, unsigned kind, uint64_t obj, uint32_t count)
{
    struct ngr_held *h;
    switch (kind) {
    case NGR_SYNC_ACQUIRE:
    case NGR_SYNC_RD_ACQUIRE:
        if ((h = held_find(th, obj, kind == NGR_SYNC_RD_ACQUIRE)) != NULL)
            h->depth++;
        else
            held_add(r, th, obj, kind == NGR_SYNC_RD_ACQUIRE, 1);
        break;
    case NGR_SYNC_RELEASE:
    case NGR_SYNC_RD_RELEASE: {
        bool rd = kind == NGR_SYNC_RD_RELEASE;
        if ((h = held_find(th, obj, rd)) != NULL) {
            if (--h->depth == 0)
                held_remove(th, h);
            break;
        }
        if (rd)
            break;
        /* threading.Lock may be released by another thread: it leaves its acquirer's set */
        for (size_t i = 0; i < r->nthreads; i++) {
            struct ngr_thread *o = &r->threads[i];
            if (o != th && (h = held_find(o, obj, false)) != NULL) {
                held_remove(o, h);
                return true;
            }
        }
        break;
    }
    case NGR_SYNC_RELEASE_ALL:
        if ((h = held_find(th, obj, false)) != NULL)
            held_remove(th, h);
        break;
    case NGR_SYNC_ACQUIRE_ALL:
        if ((h = held_find(th, obj, false)) != NULL)
            h->depth = count ? count : 1;
        else
            held_add(r, th, obj, false, count ? count : 1);
        break;
    default:
        break;
    }
    return false;
}

/* ---- next ---------------------------------------------------------------------------------------- */

bool ngr_replay_next_slow(struct ngr_replay *r, struct ngr_event *ev)
{
    const struct ngr_trace *t = r->t;
    if (r->failed)
        return false;
    for (;;) {
        if (r->cur < 0) {
            if (!r->nheap)
                return false;
            r->cur = (int)heap_pop(r);
        }
        struct ngr_thread *th = &r->threads[r->cur];
        const struct ngr_stream_idx *s = stream_of(r, th);
        settle(s, &th->chunk, &th->off);
        if (th->chunk >= s->nchunks) {
            th->done = true;
            r->cur = -1;
            continue;
        }
        uint64_t off = th->off;
        uint64_t w0 = ngr_trace_word(t, off, 0);
        unsigned op = ngr_w0_op(w0);
        th->off += 8ull * ngr_w0_words(w0);
        if (op == NGR_OP_ACCESS) {
            ngr_replay_fill_access(t, off, w0, (uint32_t)r->cur, ev);
            r->events++;
            return true;
        }
        if (op == NGR_OP_MARK && r->want_marks) {
            ngr_replay_fill_mark(off, w0, (uint32_t)r->cur, ev);
            return true;
        }
        if (op != NGR_OP_SYNC && op != NGR_OP_THREAD)
            continue; /* unknown or misplaced record: skipped by its size */
        /* the sync record the heap chose us for: emit it, then queue the thread again */
        ev->op = op;
        ev->kind = ngr_w0_flags(w0);
        ev->tix = (uint32_t)r->cur;
        ev->seq = ngr_trace_word(t, off, 1);
        ev->offset = off;
        if (op == NGR_OP_SYNC) {
            uint64_t w3 = ngr_trace_word(t, off, 3);
            ev->stack_id = ngr_w0_arg(w0);
            ev->obj = ngr_trace_word(t, off, 2);
            ev->count = (uint32_t)w3;
            ev->native_stack_id = (uint32_t)(w3 >> 32);
            ev->handoff = apply_sync(r, th, ev->kind, ev->obj, ev->count);
        } else {
            ev->other = ngr_w0_arg(w0);
            ev->extra = ngr_trace_word(t, off, 2);
        }
        th->la_chunk = th->chunk;
        th->la_off = th->off;
        look_ahead(r, th);
        if (th->next_seq == UINT64_MAX && th->la_chunk >= s->nchunks && !r->failed) {
            /* nothing at all after this record (a thread's END, usually): the thread is done now,
             * not when its place at the back of the heap comes, so its chunks can be let go of */
            size_t ch = th->chunk;
            uint64_t off = th->off;
            settle(s, &ch, &off);
            if (ch >= s->nchunks) {
                th->chunk = ch;
                th->off = off;
                th->done = true;
                r->cur = -1;
                r->events++;
                return true;
            }
        }
        /* Often this thread's next sync record is also the lowest of all (acquire, access,
         * release): then it simply goes on, no heap traffic. */
        struct ngr_heap_ent me = {th->next_seq, (uint32_t)r->cur};
        if (r->nheap && !before(&me, &r->heap[0])) {
            heap_push(r, (uint32_t)r->cur);
            r->cur = -1;
        }
        r->events++;
        return true;
    }
}
