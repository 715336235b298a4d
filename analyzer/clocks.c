/* clocks.c — happens-before: a vector clock per thread, advanced and joined by thread
 * start/end/join and by SEND/RECV on queues, events, futures and condition waiters; barriers
 * keep a clock per round.  Lock acquire/release are not edges (analysis.h says why). */
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

static inline void vc_join(uint32_t *dst, const uint32_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (src[i] > dst[i])
            dst[i] = src[i];
}

static uint32_t *vc_copy(const uint32_t *src, size_t n, uint32_t *dst)
{
    if (!dst)
        dst = ngr_xcalloc(n ? n : 1, sizeof *dst);
    memcpy(dst, src, n * sizeof *dst);
    return dst;
}

void clocks_init(struct an *a)
{
    a->th = ngr_xcalloc(a->n, sizeof *a->th);
    for (size_t i = 0; i < a->n; i++) {
        a->th[i].vc = ngr_xcalloc(a->n, sizeof(uint32_t));
        a->th[i].vc[i] = 1;
    }
}

static uint32_t *obj_vc(struct an *a, uint64_t obj, bool create)
{
    uint32_t *ix = ngr_map_get_maybe(&a->objs, obj + 1);
    if (ix)
        return a->objvc + (size_t)*ix * a->n;
    if (!create)
        return NULL;
    size_t need = (a->nobjs + 1) * a->n;
    NGR_GROW(a->objvc, a->objs_cap, need);
    ngr_map_put(&a->objs, obj + 1, (uint32_t)a->nobjs);
    return a->objvc + a->nobjs++ * a->n;
}

/* A Barrier is SENT to on arrival and RECEIVED from on leaving; a thread that leaves late can
 * find the first threads already arrived for the next round.  So a barrier keeps one clock per
 * round (the two latest rounds: no thread can be further ahead), and a thread receives the
 * round it sent to. */
struct barrier {
    uint32_t *cnt;         /* per thread: rounds arrived at */
    uint32_t *vc[2];
    uint32_t round[2];
};

static struct barrier *barrier_of(struct an *a, uint64_t obj)
{
    const struct ngr_sobj *so = ngr_trace_sobj_maybe(a->t, obj);
    if (!so || so->kind != NGR_SOBJ_BARRIER)
        return NULL;
    uint32_t *ix = ngr_map_get_maybe(&a->barrier_map, obj + 1);
    if (ix)
        return &a->barriers[*ix];
    NGR_GROW(a->barriers, a->barriers_cap, a->nbarriers + 1);
    struct barrier *b = &a->barriers[a->nbarriers];
    b->cnt = ngr_xcalloc(a->n, sizeof *b->cnt);
    b->vc[0] = ngr_xcalloc(a->n, sizeof *b->vc[0]);
    b->vc[1] = ngr_xcalloc(a->n, sizeof *b->vc[1]);
    b->round[0] = b->round[1] = 0;
    ngr_map_put(&a->barrier_map, obj + 1, (uint32_t)a->nbarriers);
    return &a->barriers[a->nbarriers++];
}

void on_sync(struct an *a, const struct ngr_event *ev)
{
    struct athr *T = &a->th[ev->tix];
    uint32_t *o;
    struct barrier *b;
    if ((ev->kind == NGR_SYNC_SEND || ev->kind == NGR_SYNC_RECV) && (b = barrier_of(a, ev->obj)) != NULL) {
        uint32_t r = b->cnt[ev->tix] + (ev->kind == NGR_SYNC_SEND);
        unsigned slot = r & 1;
        if (ev->kind == NGR_SYNC_SEND) {
            b->cnt[ev->tix] = r;
            if (b->round[slot] != r) {
                memset(b->vc[slot], 0, a->n * sizeof *b->vc[slot]);
                b->round[slot] = r;
            }
            vc_join(b->vc[slot], T->vc, a->n);
            T->vc[ev->tix]++;
        } else if (b->round[slot] == r) {
            vc_join(T->vc, b->vc[slot], a->n);
        }
        return;
    }
    switch (ev->kind) {
    case NGR_SYNC_SEND:
        o = obj_vc(a, ev->obj, true);
        vc_join(o, T->vc, a->n);
        T->vc[ev->tix]++;
        break;
    case NGR_SYNC_RECV:
        if ((o = obj_vc(a, ev->obj, false)) != NULL)
            vc_join(T->vc, o, a->n);
        break;
    case NGR_SYNC_FREE:
        if ((o = obj_vc(a, ev->obj, false)) != NULL)
            memset(o, 0, a->n * sizeof *o);
        break;
    default:
        break; /* lock operations: the replay keeps the locksets */
    }
}

void on_thread(struct an *a, const struct ngr_event *ev)
{
    struct athr *T = &a->th[ev->tix];
    int o = ev->other ? ngr_replay_thread_index(&a->r, ev->other) : -1;
    switch (ev->kind) {
    case NGR_THR_SPAWN:
        if (o >= 0 && !a->th[o].spawn_vc && !a->th[o].spawned)
            a->th[o].spawn_vc = vc_copy(T->vc, a->n, NULL);
        if (o >= 0 && !a->th[o].parent1) {
            a->th[o].parent1 = ev->tix + 1;
            a->th[o].parent_clk = T->vc[ev->tix];
        }
        T->vc[ev->tix]++;
        break;
    case NGR_THR_BEGIN:
        if (T->spawn_vc) {
            vc_join(T->vc, T->spawn_vc, a->n);
            free(T->spawn_vc); /* many short threads: keep memory to one clock each */
            T->spawn_vc = NULL;
            T->spawned = true;
        }
        else if (o >= 0)
            vc_join(T->vc, a->th[o].vc, a->n); /* BEGIN before the parent's SPAWN: its clock now */
        break;
    case NGR_THR_END:
        T->final_vc = vc_copy(T->vc, a->n, T->final_vc);
        T->ended = true;
        free(T->open); /* the thread's functions have all returned: no window stays open */
        T->open = NULL;
        break;
    case NGR_THR_JOIN:
        if (o >= 0)
            vc_join(T->vc, a->th[o].ended ? a->th[o].final_vc : a->th[o].vc, a->n);
        break;
    case NGR_THR_FORK:
        T->vc[ev->tix]++;
        break;
    default:
        break;
    }
}

void clocks_free(struct an *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->th[i].vc);
        free(a->th[i].final_vc);
        free(a->th[i].spawn_vc);
        free(a->th[i].open);
    }
    free(a->th);
    ngr_map_free(&a->objs);
    free(a->objvc);
    for (size_t i = 0; i < a->nbarriers; i++) {
        free(a->barriers[i].cnt);
        free(a->barriers[i].vc[0]);
        free(a->barriers[i].vc[1]);
    }
    free(a->barriers);
    ngr_map_free(&a->barrier_map);
}
