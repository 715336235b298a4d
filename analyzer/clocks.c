/* clocks.c — happens-before: a vector clock per thread, advanced and joined by thread
 * start/end/join and by SEND/RECV on queues, events, futures and condition waiters; barriers
 * keep a clock per round.  Lock acquire/release are not edges (analysis.h says why).
 *
 * Memory and time must grow with threads, not threads squared: a test suite run with
 * `--parallel-threads=16` starts tens of thousands of short threads, and dense clocks of n
 * entries each (n = thread streams) took gigabytes and an O(n) join per SEND/RECV/JOIN.  So:
 *
 *   - A clock is sparse (analysis_int.h, struct vclock): sorted runs of columns, absent = 0.  A
 *     thread starts with no entries; its own component is athr.clk, outside the runs.
 *   - VC_ALL.  What a clock's column c is ever compared with is the clock of one of c's recorded
 *     accesses (access.c: unordered_at; born_after uses the parent's clock at SPAWN, not a
 *     column).  Once c has ended it makes no more accesses, so a component v >= acc_fin (the
 *     clock of c's last access) answers "ordered" to every question anyone can still ask about
 *     c, exactly as VC_ALL does: replacing it by VC_ALL loses nothing and is not an
 *     approximation.  Every merge does that replacement, and neighbouring VC_ALL columns fuse
 *     into one run.  A thread that joined (or received from) thousands of finished threads keeps
 *     one run for all of them, and so does every thread it starts.
 *   - Joins merge runs: O(runs of both), not O(n).
 *   - END keeps the thread's clock as its final clock (own column VC_ALL); nothing is copied.
 *   - Sync objects: FREE hands the row back (the id may be reused for a new object, which
 *     starts with an empty clock), so rows are as many as live objects; barriers likewise, and
 *     count rounds per thread in a map rather than an array of n.
 *
 * Why not retire threads globally (FastTrack-style: once every live thread has seen an ended
 * thread's end, treat its accesses as ordered before everything)?  One live thread that never
 * synchronises (a daemon) would block every retirement, and a thread beginning without a known
 * parent would see retired accesses as ordered although its empty clock says they are not.
 * Per-clock VC_ALL needs neither: each clock says only what it knows.
 *
 * What stays: a clock keeps a finite entry for a thread it received from (queue, event,
 * future) when that thread made accesses after the SEND and was never joined: the clock really
 * does not order those accesses.  Threads that are joined, or whose last access precedes what
 * was received from them, cost nothing. */
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

#define OBJ_NONE UINT32_MAX /* objs / barrier_map value of a freed object */

/* ---- sparse clocks ------------------------------------------------------------------------------ */

/* Appends run x to o (runs come in order of lo), replacing a finite component that covers the
 * whole access history of an ended thread by VC_ALL and fusing VC_ALL runs. */
static void vc_put(const struct an *a, struct vclock *o, struct vseg x)
{
    if (!x.val)
        return;
    if (x.val != VC_ALL) {
        const struct athr *C = &a->th[x.lo];
        if (C->ended && x.val >= C->fin)
            x.val = VC_ALL;
    }
    struct vseg *l = o->n ? &o->s[o->n - 1] : NULL;
    if (l && l->val == VC_ALL && x.lo <= l->hi) {
        if (x.val == VC_ALL) {
            if (x.hi > l->hi)
                l->hi = x.hi;
            return;
        }
        if (x.lo < l->hi)
            return; /* a finite column inside a VC_ALL run */
    } else if (l && l->lo == x.lo) { /* l finite: the same column */
        if (x.val == VC_ALL) {
            o->n--;
            vc_put(a, o, x); /* may fuse with the VC_ALL run before */
            return;
        }
        if (x.val > l->val)
            l->val = x.val;
        return;
    }
    NGR_GROW(o->s, o->cap, o->n + 1);
    o->s[o->n++] = x;
}

/* dst = max(dst, src, {col: val}) componentwise (col = UINT32_MAX: none). */
static void vc_merge(struct an *a, struct vclock *dst, const struct vclock *src, uint32_t col, uint32_t val)
{
    struct vclock *o = &a->scratch;
    o->n = 0;
    struct vseg extra = {col, col + 1, val};
    size_t i = 0, j = 0;
    bool xtra = col != UINT32_MAX;
    for (;;) {
        const struct vseg *p = i < dst->n ? &dst->s[i] : NULL;
        const struct vseg *q = j < src->n ? &src->s[j] : NULL;
        const struct vseg *e = xtra ? &extra : NULL;
        const struct vseg *m = p;
        if (q && (!m || q->lo < m->lo))
            m = q;
        if (e && (!m || e->lo < m->lo))
            m = e;
        if (!m)
            break;
        vc_put(a, o, *m);
        if (m == p)
            i++;
        else if (m == q)
            j++;
        else
            xtra = false;
    }
    /* swap storage: dst takes the result, the scratch keeps dst's old array */
    struct vclock t = *dst;
    *dst = *o;
    *o = t;
}

/* dst = max(dst, thread's clock, its own column) */
static void vc_join_thread(struct an *a, struct vclock *dst, uint32_t tix)
{
    const struct athr *T = &a->th[tix];
    vc_merge(a, dst, &T->vc, tix, T->clk);
}

static void vc_release(struct vclock *c)
{
    free(c->s);
    *c = (struct vclock){0};
}

void clocks_init(struct an *a)
{
    a->th = ngr_xcalloc(a->n, sizeof *a->th);
    for (size_t i = 0; i < a->n; i++)
        a->th[i].clk = 1; /* no entries: a clock grows only with what its thread learns */
}

/* ---- sync objects ------------------------------------------------------------------------------- */

static struct vclock *obj_vc(struct an *a, uint64_t obj, bool create)
{
    uint32_t *ix = ngr_map_get_maybe(&a->objs, obj + 1);
    if (ix && *ix != OBJ_NONE)
        return &a->objvc[*ix];
    if (!create)
        return NULL;
    uint32_t row;
    if (a->nobjfree) {
        row = a->objfree[--a->nobjfree];
    } else {
        NGR_GROW(a->objvc, a->objs_cap, a->nobjs + 1);
        row = (uint32_t)a->nobjs++;
        a->objvc[row] = (struct vclock){0};
    }
    ngr_map_put(&a->objs, obj + 1, row);
    return &a->objvc[row];
}

static void obj_free(struct an *a, uint64_t obj)
{
    uint32_t *ix = ngr_map_get_maybe(&a->objs, obj + 1);
    if (!ix || *ix == OBJ_NONE)
        return;
    vc_release(&a->objvc[*ix]);
    NGR_GROW(a->objfree, a->objfree_cap, a->nobjfree + 1);
    a->objfree[a->nobjfree++] = *ix;
    *ix = OBJ_NONE; /* the id may come back for another object */
}

/* A Barrier is SENT to on arrival and RECEIVED from on leaving; a thread that leaves late can
 * find the first threads already arrived for the next round.  So a barrier keeps one clock per
 * round (the two latest rounds: no thread can be further ahead), and a thread receives the
 * round it sent to. */
struct barrier {
    struct ngr_map cnt;    /* thread index + 1 -> rounds arrived at */
    struct vclock vc[2];
    uint32_t round[2];
};

static struct barrier *barrier_of(struct an *a, uint64_t obj)
{
    const struct ngr_sobj *so = ngr_trace_sobj_maybe(a->t, obj);
    if (!so || so->kind != NGR_SOBJ_BARRIER)
        return NULL;
    uint32_t *ix = ngr_map_get_maybe(&a->barrier_map, obj + 1);
    if (ix && *ix != OBJ_NONE)
        return &a->barriers[*ix];
    uint32_t bx;
    if (a->nbarfree) {
        bx = a->barfree[--a->nbarfree];
    } else {
        NGR_GROW(a->barriers, a->barriers_cap, a->nbarriers + 1);
        bx = (uint32_t)a->nbarriers++;
    }
    a->barriers[bx] = (struct barrier){0};
    ngr_map_put(&a->barrier_map, obj + 1, bx);
    return &a->barriers[bx];
}

static void barrier_release(struct barrier *b)
{
    ngr_map_free(&b->cnt);
    vc_release(&b->vc[0]);
    vc_release(&b->vc[1]);
}

static void barrier_free(struct an *a, uint64_t obj)
{
    uint32_t *ix = ngr_map_get_maybe(&a->barrier_map, obj + 1);
    if (!ix || *ix == OBJ_NONE)
        return;
    barrier_release(&a->barriers[*ix]);
    NGR_GROW(a->barfree, a->barfree_cap, a->nbarfree + 1);
    a->barfree[a->nbarfree++] = *ix;
    *ix = OBJ_NONE;
}

/* The thread's own component moves on (SEND, SPAWN, FORK).  Not after its END: a stream has
 * nothing after END, and the VC_ALL reasoning above relies on an ended thread standing still. */
static inline void tick(struct athr *T)
{
    if (!T->ended)
        T->clk++;
}

void on_sync(struct an *a, const struct ngr_event *ev)
{
    struct athr *T = &a->th[ev->tix];
    struct vclock *o;
    struct barrier *b;
    if ((ev->kind == NGR_SYNC_SEND || ev->kind == NGR_SYNC_RECV) && (b = barrier_of(a, ev->obj)) != NULL) {
        uint32_t *c = ngr_map_get_maybe(&b->cnt, (uint64_t)ev->tix + 1);
        uint32_t r = (c ? *c : 0) + (ev->kind == NGR_SYNC_SEND);
        unsigned slot = r & 1;
        if (ev->kind == NGR_SYNC_SEND) {
            ngr_map_put(&b->cnt, (uint64_t)ev->tix + 1, r);
            if (b->round[slot] != r) {
                b->vc[slot].n = 0;
                b->round[slot] = r;
            }
            vc_join_thread(a, &b->vc[slot], ev->tix);
            tick(T);
        } else if (b->round[slot] == r) {
            vc_merge(a, &T->vc, &b->vc[slot], UINT32_MAX, 0);
        }
        return;
    }
    switch (ev->kind) {
    case NGR_SYNC_RELEASE: /* only hand-offs get here (analysis.c, lock_moves_clock) */
        if (!ev->handoff)
            break;
        /* the releaser sends to whoever acquires the lock next */
        __attribute__((fallthrough));
    case NGR_SYNC_SEND:
        o = obj_vc(a, ev->obj, true);
        vc_join_thread(a, o, ev->tix);
        tick(T);
        break;
    case NGR_SYNC_ACQUIRE: /* only acquires of a lock once handed off get here */
    case NGR_SYNC_RECV:
        if ((o = obj_vc(a, ev->obj, false)) != NULL)
            vc_merge(a, &T->vc, o, UINT32_MAX, 0);
        break;
    case NGR_SYNC_FREE:
        obj_free(a, ev->obj);
        barrier_free(a, ev->obj);
        break;
    default:
        break; /* lock operations: the replay keeps the locksets */
    }
}

/* ---- threads ------------------------------------------------------------------------------------ */

void on_thread(struct an *a, const struct ngr_event *ev)
{
    struct athr *T = &a->th[ev->tix];
    int o = ev->other ? ngr_replay_thread_index(&a->r, ev->other) : -1;
    switch (ev->kind) {
    case NGR_THR_SPAWN:
        if (o >= 0 && !a->th[o].has_spawn && !a->th[o].spawned) {
            vc_join_thread(a, &a->th[o].spawn, ev->tix);
            a->th[o].has_spawn = true;
        }
        if (o >= 0 && !a->th[o].parent1) {
            a->th[o].parent1 = ev->tix + 1;
            a->th[o].parent_clk = T->clk;
        }
        tick(T);
        break;
    case NGR_THR_BEGIN:
        if (T->has_spawn) {
            vc_merge(a, &T->vc, &T->spawn, UINT32_MAX, 0);
            vc_release(&T->spawn);
            T->has_spawn = false;
            T->spawned = true;
        }
        else if (o >= 0)
            vc_join_thread(a, &T->vc, (uint32_t)o); /* BEGIN before the parent's SPAWN: its clock now */
        break;
    case NGR_THR_END:
        if (!T->ended) {
            T->ended = true;
            T->fin = T->acc_clk;
            /* the clock becomes the final clock, own column VC_ALL (fin <= clk) */
            vc_merge(a, &T->vc, &(struct vclock){0}, ev->tix, T->clk);
        }
        free(T->open); /* the thread's functions have all returned: no window stays open */
        T->open = NULL;
        break;
    case NGR_THR_JOIN:
        if (o >= 0)
            vc_join_thread(a, &T->vc, (uint32_t)o); /* an ended thread's clock is its final clock */
        break;
    case NGR_THR_FORK:
        tick(T);
        break;
    default:
        break;
    }
}

void clocks_free(struct an *a)
{
    for (size_t i = 0; i < a->n; i++) {
        vc_release(&a->th[i].vc);
        vc_release(&a->th[i].spawn);
        free(a->th[i].open);
    }
    free(a->th);
    ngr_map_free(&a->objs);
    for (size_t i = 0; i < a->nobjs; i++)
        vc_release(&a->objvc[i]);
    free(a->objvc);
    free(a->objfree);
    for (size_t i = 0; i < a->nbarriers; i++)
        barrier_release(&a->barriers[i]);
    free(a->barriers);
    free(a->barfree);
    ngr_map_free(&a->barrier_map);
    vc_release(&a->scratch);
}
