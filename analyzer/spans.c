/* spans.c — see spans.h. */
#include "spans.h"

#include <stdlib.h>
#include <string.h>

#include "merge.h"

#define MAX_NEST 8          /* spans open at once in one thread; deeper ones replace the innermost */
#define SENT_NONE UINT32_MAX

struct span {
    uint32_t label;         /* string id, 0 = no span */
    uint8_t phase;          /* enum ngr_mark_phase */
};

struct change {             /* from this clock of its thread on, the thread runs in s */
    uint32_t clk;
    struct span s;
};

struct tsp {                /* one thread */
    struct change *ch;      /* by clock, ascending */
    size_t nch, cap;
    struct span nest[MAX_NEST]; /* spans it began itself, innermost last */
    unsigned depth;
    struct span base;       /* inherited: at its spawn, or from its last hand-off */
};

struct cset {               /* the labels of one candidate's instances, each once */
    uint32_t *labels;
    size_t n, cap;
    struct ngr_map seen;    /* label -> 1, once the set is past SET_SCAN labels */
    uint64_t last;          /* the last instance's pair of labels: repeats cost one compare */
};
#define SET_SCAN 16         /* up to this many labels a set is searched; past it, mapped */

struct spans {
    struct tsp *th;         /* a->n of them */
    struct ngr_map sent;    /* sync object + 1 -> index into sv of its last sender's span */
    struct span *sv;
    size_t nsv, sv_cap;
    struct cset *sets;      /* by candidate index */
    size_t nsets;
};

static inline struct span current(const struct tsp *T)
{
    return T->depth ? T->nest[T->depth - 1] : T->base;
}

static inline bool same(struct span x, struct span y) { return x.label == y.label && x.phase == y.phase; }

/* Thread tix runs in its current span from clock clk on. */
static void record(struct tsp *T, uint32_t clk)
{
    struct span s = current(T);
    if (T->nch && same(T->ch[T->nch - 1].s, s))
        return;
    if (T->nch && T->ch[T->nch - 1].clk >= clk) { /* nothing ran at the last change's clock yet */
        T->ch[T->nch - 1].s = s;
        return;
    }
    NGR_GROW(T->ch, T->cap, T->nch + 1);
    T->ch[T->nch++] = (struct change){clk, s};
}

static struct span span_at(const struct an *a, uint32_t tix, uint32_t clk)
{
    const struct tsp *T = &a->spans->th[tix];
    size_t lo = 0, hi = T->nch; /* the last change at or before clk */
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (T->ch[m].clk <= clk)
            lo = m + 1;
        else
            hi = m;
    }
    return lo ? T->ch[lo - 1].s : (struct span){0, 0};
}

/* A new span for thread tix from now on: its own clock moves on, so that its accesses before and
 * after are told apart (no other thread has seen the new value: no ordering changes). */
static uint32_t next_clock(struct an *a, uint32_t tix)
{
    struct athr *T = &a->th[tix];
    if (!T->ended)
        T->clk++;
    return T->clk;
}

void spans_on_mark(struct an *a, const struct ngr_event *ev)
{
    if (!a->spans) {
        a->spans = ngr_xcalloc(1, sizeof *a->spans);
        a->spans->th = ngr_xcalloc(a->n, sizeof *a->spans->th);
    }
    struct tsp *T = &a->spans->th[ev->tix];
    struct span s = {ev->var_id, (uint8_t)(ev->kind & NGR_MARK_PHASE_MASK)};
    if (ev->kind & NGR_MARK_BEGIN) {
        if (T->depth < MAX_NEST)
            T->nest[T->depth++] = s;
        else
            T->nest[MAX_NEST - 1] = s;
    } else {
        unsigned i = T->depth;
        while (i && !same(T->nest[i - 1], s))
            i--;
        if (!i)
            return; /* an end without its begin: nothing changes */
        T->depth = i - 1; /* and any span begun inside it and left open ends with it */
    }
    record(T, next_clock(a, ev->tix));
}

void spans_on_thread(struct an *a, const struct ngr_event *ev)
{
    if (!a->spans || ev->kind != NGR_THR_SPAWN || !ev->other)
        return;
    int o = ngr_replay_thread_index(&a->r, ev->other);
    if (o < 0)
        return;
    struct span p = current(&a->spans->th[ev->tix]);
    struct tsp *C = &a->spans->th[o];
    if (!p.label || C->depth)
        return;
    C->base = p;
    record(C, a->th[o].clk);
}

static bool is_barrier(const struct an *a, uint64_t obj)
{
    const struct ngr_sobj *so = ngr_trace_sobj_maybe(a->t, obj);
    return so && so->kind == NGR_SOBJ_BARRIER;
}

void spans_on_sync(struct an *a, const struct ngr_event *ev)
{
    struct spans *S = a->spans;
    if (!S)
        return;
    if (ev->kind == NGR_SYNC_SEND) {
        struct span s = current(&S->th[ev->tix]);
        if (!s.label || is_barrier(a, ev->obj))
            return;
        uint32_t *ix = ngr_map_get_maybe(&S->sent, ev->obj + 1);
        if (!ix || *ix == SENT_NONE) {
            NGR_GROW(S->sv, S->sv_cap, S->nsv + 1);
            ngr_map_put(&S->sent, ev->obj + 1, (uint32_t)S->nsv);
            S->sv[S->nsv++] = s;
        } else {
            S->sv[*ix] = s;
        }
    } else if (ev->kind == NGR_SYNC_RECV) {
        struct tsp *T = &S->th[ev->tix];
        uint32_t *ix = ngr_map_get_maybe(&S->sent, ev->obj + 1);
        if (T->depth || !ix || *ix == SENT_NONE || same(T->base, S->sv[*ix]))
            return; /* a thread that marks its own spans keeps them */
        T->base = S->sv[*ix];
        record(T, next_clock(a, ev->tix));
    } else if (ev->kind == NGR_SYNC_FREE) {
        uint32_t *ix = ngr_map_get_maybe(&S->sent, ev->obj + 1);
        if (ix)
            *ix = SENT_NONE; /* a new object at this address starts with no sender (its slot is lost) */
    }
}

/* Every distinct label is kept (a finding lists NGR_MAX_TESTS of them and counts the rest): a
 * candidate met in many tests costs a label each, not one per instance. */
static void set_add(struct cset *c, uint32_t label)
{
    if (!label)
        return;
    if (c->n <= SET_SCAN) {
        for (size_t i = 0; i < c->n; i++)
            if (c->labels[i] == label)
                return;
    } else if (ngr_map_get_maybe(&c->seen, label)) {
        return;
    }
    NGR_GROW(c->labels, c->cap, c->n + 1);
    c->labels[c->n++] = label;
    if (c->n == SET_SCAN + 1) /* from now on mapped */
        for (size_t i = 0; i < c->n; i++)
            ngr_map_put(&c->seen, c->labels[i], 1);
    else if (c->n > SET_SCAN + 1)
        ngr_map_put(&c->seen, label, 1);
}

void spans_note(struct an *a, const struct cand *c, const struct acc_full *x0, const struct acc_full *x1)
{
    struct spans *S = a->spans;
    size_t ci = (size_t)(c - a->cands);
    if (ci >= S->nsets) {
        size_t n = a->cands_cap > ci ? a->cands_cap : ci + 1;
        S->sets = ngr_xrealloc(S->sets, n * sizeof *S->sets);
        memset(S->sets + S->nsets, 0, (n - S->nsets) * sizeof *S->sets);
        S->nsets = n;
    }
    struct cset *set = &S->sets[ci];
    uint32_t l0 = span_at(a, x0->tix, x0->clk).label, l1 = span_at(a, x1->tix, x1->clk).label;
    uint64_t pair = (uint64_t)l0 << 32 | l1;
    if (set->n && set->last == pair)
        return;
    set->last = pair;
    set_add(set, l0);
    set_add(set, l1);
}

static const char *phase_name(unsigned phase)
{
    switch (phase) {
    case NGR_MARK_SETUP: return "setup";
    case NGR_MARK_CALL: return "call";
    case NGR_MARK_TEARDOWN: return "teardown";
    default: return NULL;
    }
}

void spans_fill_accesses(struct an *a, const struct cand *c, struct ngr_access_info acc[2])
{
    if (!a->spans)
        return;
    for (int i = 0; i < 2; i++) {
        struct span s = span_at(a, c->a[i].tix, c->a[i].clk);
        if (!s.label)
            continue;
        acc[i].test = ngr_trace_strdup(a->t, s.label);
        const char *ph = phase_name(s.phase);
        acc[i].phase = ph ? ngr_xstrdup(ph) : NULL;
    }
}

void spans_add_tests(struct an *a, const struct cand *c, struct ngr_finding *f)
{
    struct spans *S = a->spans;
    size_t ci = (size_t)(c - a->cands);
    const struct cset *set = S && ci < S->nsets ? &S->sets[ci] : NULL;
    if (!set || !set->n)
        return;
    char **tests = ngr_xcalloc(set->n, sizeof *tests);
    for (size_t i = 0; i < set->n; i++)
        tests[i] = ngr_trace_strdup(a->t, set->labels[i]);
    ngr_finding_add_tests(f, tests, set->n, 0); /* it keeps NGR_MAX_TESTS and counts the rest */
}

void spans_free(struct an *a)
{
    struct spans *S = a->spans;
    if (!S)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(S->th[i].ch);
    free(S->th);
    ngr_map_free(&S->sent);
    free(S->sv);
    for (size_t i = 0; i < S->nsets; i++) {
        free(S->sets[i].labels);
        ngr_map_free(&S->sets[i].seen);
    }
    free(S->sets);
    free(S);
    a->spans = NULL;
}
