/* access.c — what one access does to its variable (analysis.h has the algorithm):
 * reads open read-modify-write windows in their thread and are remembered as readers of the
 * variable; writes close windows, decide ownership, and pair with earlier conflicting accesses
 * into candidate findings. */
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"
#include "spans.h"

static const struct aux no_aux;

static inline const struct aux *aux_or_none(const struct an *a, uint32_t id)
{
    return id ? aux_of(a, id) : &no_aux;
}

static struct acc_full expand(const struct an *a, const struct acc *c)
{
    const struct aux *x = aux_or_none(a, c->aux);
    return (struct acc_full){.tix = c->tix, .clk = c->clk, .lset = c->lset, .pset = c->pset, .rlset = x->rlset,
                             .stack = c->stack, .nstack = x->nstack, .rstack = x->rstack, .kind = c->kind,
                             .rkind = x->rkind, .cls = c->cls, .atomic = c->atomic, .ratomic = x->ratomic,
                             .window = c->window};
}

/* ---- candidates ------------------------------------------------------------------------------ */

static void candidate(struct an *a, unsigned kind, uint32_t vix, const struct acc_full *first, bool first_is_read,
                      const struct acc_full *conflict, bool observed)
{
    struct acc_full x = *first;
    if (first_is_read) { /* report the window's opening read */
        x.kind = x.rkind;
        x.atomic = x.ratomic;
        uint32_t wstack = x.stack;
        x.stack = x.rstack;
        x.rstack = wstack; /* kept for the message: the window's write */
        x.lset = x.rlset;
    }
    uint64_t key = ngr_mix64(ngr_mix64((uint64_t)kind << 40 ^ vix) ^ ((uint64_t)x.stack << 32 | conflict->stack));
    key = ngr_mix64(key ^ ((uint64_t)x.kind << 8 | conflict->kind)) | 1;
    uint32_t *ix = ngr_map_get_maybe(&a->cand_map, key);
    struct cand *c;
    if (ix) {
        c = &a->cands[*ix];
        c->count++;
        if (a->spans)
            spans_note(a, c, &x, conflict);
        if (observed && !c->observed) {
            c->observed = true;
            c->a[0] = x;
            c->a[1] = *conflict;
        }
        return;
    }
    if (a->ncands >= MAX_CANDIDATES) {
        a->dropped_cands++;
        return;
    }
    NGR_GROW(a->cands, a->cands_cap, a->ncands + 1);
    c = &a->cands[a->ncands];
    *c = (struct cand){.kind = (uint8_t)kind, .observed = observed, .vix = vix, .count = 1};
    c->a[0] = x;
    c->a[1] = *conflict;
    ngr_map_put(&a->cand_map, key, (uint32_t)a->ncands++);
    if (a->spans)
        spans_note(a, c, &x, conflict);
}

/* ---- a thread's open reads ----------------------------------------------------------------------- */

static inline struct openset *open_set(const struct athr *T, uint32_t vix)
{
    return &T->open[(vix * 0x9e3779b1u) >> 26]; /* OPEN_SETS = 64: the top 6 bits */
}

/* The thread's open read of vix, or NULL. */
static struct openread *open_find(const struct athr *T, uint32_t vix)
{
    if (!T->open)
        return NULL;
    struct openset *s = open_set(T, vix);
    for (unsigned w = 0; w < OPEN_WAYS; w++)
        if (s->vix1[w] == vix + 1)
            return &s->e[w];
    return NULL;
}

static void open_close(struct athr *T, uint32_t vix, struct openread *o)
{
    struct openset *s = open_set(T, vix);
    s->vix1[o - s->e] = 0;
}

/* The entry for a new read of vix (*found: it had one already), else a free way, else the next
 * way in turn. */
static struct openread *open_take(struct athr *T, uint32_t vix, bool *found)
{
    if (!T->open)
        T->open = ngr_xcalloc(OPEN_SETS, sizeof *T->open);
    struct openset *s = open_set(T, vix);
    int free_way = -1;
    for (unsigned w = 0; w < OPEN_WAYS; w++) {
        if (s->vix1[w] == vix + 1) {
            *found = true;
            return &s->e[w];
        }
        if (!s->vix1[w] && free_way < 0)
            free_way = (int)w;
    }
    *found = false;
    unsigned w = free_way >= 0 ? (unsigned)free_way : s->next++ % OPEN_WAYS;
    s->vix1[w] = vix + 1;
    return &s->e[w];
}

/* ---- ordering ------------------------------------------------------------------------------------- */

static inline bool unordered_at(const struct an *a, uint32_t ptix, uint32_t pclk, uint32_t tix)
{
    return pclk > vc_at(&a->th[tix], tix, ptix);
}

/* Every recorded access of v by another thread happens-before the current access of tix. */
static bool ordered_after_all(const struct an *a, const struct var *v, uint32_t tix)
{
    if (v->lost_reads)
        return false;
    for (unsigned i = 0; i < v->nw; i++)
        if (v->w[i].tix != tix && unordered_at(a, v->w[i].tix, v->w[i].clk, tix))
            return false;
    for (unsigned i = 0; i < NSLOT; i++)
        if (v->r[i].clk && v->r[i].tix != tix && unordered_at(a, v->r[i].tix, v->r[i].clk, tix))
            return false;
    return true;
}

/* prev was made before thread tix (or one of its ancestors) was even spawned by prev's thread:
 * no schedule can put it inside anything tix does.  Module initialisation before the workers
 * start is the common case; such a write is never "potentially" concurrent, whatever third
 * access is unordered. */
static bool born_after(const struct an *a, const struct acc *prev, uint32_t tix)
{
    for (unsigned depth = 0; depth < 64 && a->th[tix].parent1; depth++) {
        uint32_t p = a->th[tix].parent1 - 1;
        if (p == prev->tix && prev->clk <= a->th[tix].parent_clk)
            return true;
        tix = p;
    }
    return false;
}

/* The locks of x held since replay serial `mark` (a window's opening read).  Usually that is every
 * lock held now, whose set x->lset already has: no sort, no interning, per window write. */
static uint32_t held_since(struct an *a, const struct actx *x, uint64_t mark)
{
    for (size_t i = 0; i < x->nheld; i++)
        if (x->held[i].serial > mark)
            return lset_of_held(&a->L, x->held, x->nheld, mark);
    return x->lset;
}

/* ---- sites ---------------------------------------------------------------------------------------- */

/* Innermost location and line of a stack, from a table built once per trace (stack ids are
 * small and dense in practice; others take the slow path). */
static uint32_t stack_top_loc_slow(const struct ngr_trace *t, uint32_t stack_id)
{
    const struct ngr_stack *st = stack_id ? ngr_trace_stack_maybe(t, stack_id) : NULL;
    return st && st->depth ? ngr_stack_at(st, 0) : 0;
}

void build_top_cache(struct an *a)
{
    const struct ngr_map *m = &a->t->stack_map;
    uint32_t max = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] && m->keys[i] < (1u << 22) && m->keys[i] > max)
            max = (uint32_t)m->keys[i];
    a->ntop = max + 1;
    a->top_loc = ngr_xcalloc(a->ntop, sizeof *a->top_loc);
    a->top_line = ngr_xcalloc(a->ntop, sizeof *a->top_line);
    for (size_t i = 0; i < m->cap; i++) {
        uint64_t id = m->keys[i];
        if (!id || id >= a->ntop)
            continue;
        uint32_t loc = stack_top_loc_slow(a->t, (uint32_t)id);
        const struct ngr_loc *l = loc ? ngr_trace_loc_maybe(a->t, loc) : NULL;
        a->top_loc[id] = loc;
        a->top_line[id] = l ? l->line : 0;
    }
}

uint32_t top_loc(const struct an *a, uint32_t stack_id)
{
    return stack_id < a->ntop ? a->top_loc[stack_id] : stack_top_loc_slow(a->t, stack_id);
}

unsigned stack_line(const struct an *a, uint32_t stack_id)
{
    if (stack_id < a->ntop)
        return a->top_line[stack_id];
    uint32_t loc = stack_top_loc_slow(a->t, stack_id);
    const struct ngr_loc *l = loc ? ngr_trace_loc_maybe(a->t, loc) : NULL;
    return l ? l->line : 0;
}

struct site_count *site_count(struct an *a, uint32_t vix, uint32_t loc, bool *created)
{
    uint64_t key = ngr_mix64((uint64_t)vix << 32 | loc) | 1;
    uint32_t *ix = ngr_map_get_maybe(&a->site_map, key);
    *created = !ix;
    if (ix)
        return &a->sites[*ix];
    NGR_GROW(a->sites, a->sites_cap, a->nsites + 1);
    ngr_map_put(&a->site_map, key, (uint32_t)a->nsites);
    a->sites[a->nsites] = (struct site_count){0, 0};
    return &a->sites[a->nsites++];
}

/* ---- reads -------------------------------------------------------------------------------------- */

/* A read by another thread at the very site where a window of `w` opened, unordered with w and
 * holding none of the window's locks: that thread runs the same check-then-act (or
 * read-modify-write) concurrently, even if in this run it found the work done already. */
static void check_same_site_read(struct an *a, uint32_t vix, const struct acc *w, const struct acc_full *rd)
{
    if (!w->window || w->tix == rd->tix || !unordered_at(a, w->tix, w->clk, rd->tix) ||
        !lset_disjoint(&a->L, w->pset, rd->lset))
        return;
    uint32_t loc = top_loc(a, aux_or_none(a, w->aux)->rstack);
    if (loc && loc == top_loc(a, rd->stack)) {
        struct acc_full wf = expand(a, w);
        candidate(a, w->cls, vix, &wf, true, rd, true);
    }
}

static void on_read(struct an *a, const struct ngr_event *ev, uint32_t vix, const struct actx *x)
{
    struct var *v = &a->vars[vix];
    uint32_t tix = ev->tix;
    struct athr *T = &a->th[tix];
    uint32_t clk = T->clk;
    /* the thread's open read of v: a later write in the same activation makes it a window */
    bool found;
    struct openread *o = open_take(T, vix, &found);
    bool checked = found && o->frame == ev->frame_id && (o->checked || o->kind == NGR_ACC_CONTAINS);
    *o = (struct openread){.frame = ev->frame_id, .mark = x->mark, .stack = ev->stack_id, .lset = x->lset,
                           .kind = (uint8_t)ev->kind, .atomic = ev->atomic, .checked = checked};
    /* the variable's readers since its last write: one slot per thread */
    struct rslot *s = NULL, *free_slot = NULL;
    for (unsigned i = 0; i < NSLOT; i++) {
        if (!v->r[i].clk) {
            if (!free_slot)
                free_slot = &v->r[i];
        } else if (v->r[i].tix == tix) {
            s = &v->r[i];
            break;
        }
    }
    if (!s)
        s = free_slot;
    if (!s) {
        s = &v->r[v->rr++ % NSLOT];
        if (unordered_at(a, s->tix, s->clk, tix))
            v->lost_reads = 1;
    }
    *s = (struct rslot){.tix = tix, .kind = ev->kind & 7, .atomic = ev->atomic, .clk = clk, .stack = ev->stack_id,
                        .lset = x->lset};
    if (v->watch) {
        bool created;
        site_count(a, vix, top_loc(a, ev->stack_id), &created)->reads++;
    }
    for (unsigned i = 0; v->wwin && i < v->nw; i++) {
        if (v->w[i].window && v->w[i].tix != tix) {
            struct acc_full rd = {.tix = tix, .clk = clk, .lset = x->lset, .pset = x->lset, .stack = ev->stack_id,
                                  .nstack = ev->native_stack_id, .kind = (uint8_t)ev->kind, .atomic = ev->atomic};
            check_same_site_read(a, vix, &v->w[i], &rd);
        }
    }
}

/* ---- writes ------------------------------------------------------------------------------------- */

/* Pairs the current write `cur` with an earlier write `prev` by another thread. */
static void check_pair(struct an *a, uint32_t vix, const struct acc *prev, const struct acc *cur)
{
    if (born_after(a, prev, cur->tix))
        return;
    bool observed = unordered_at(a, prev->tix, prev->clk, cur->tix);
    const struct acc *first, *second;
    unsigned kind;
    if (cur->window && lset_disjoint(&a->L, cur->pset, prev->lset))
        first = cur, second = prev, kind = cur->cls;
    else if (prev->window && lset_disjoint(&a->L, prev->pset, cur->lset))
        first = prev, second = cur, kind = prev->cls;
    else if (!prev->atomic && !cur->atomic && lset_disjoint(&a->L, prev->lset, cur->lset))
        first = prev, second = cur, kind = NGR_FK_UNPROTECTED_WRITE;
    else
        return;
    struct acc_full f = expand(a, first), s = expand(a, second);
    candidate(a, kind, vix, &f, kind != NGR_FK_UNPROTECTED_WRITE, &s, observed);
}

/* The class of the window a write closes, opened by the thread's read o. */
static unsigned window_class(struct an *a, struct var *v, uint32_t vix, const struct openread *o,
                             const struct acc *cur)
{
    if (o->kind == NGR_ACC_CONTAINS || o->checked)
        return NGR_FK_CHECK_THEN_ACT;
    if (!cur->pset && !lset_disjoint(&a->L, o->lset, cur->lset))
        return NGR_FK_LOST_UPDATE; /* the lock was dropped and taken again in between */
    if (stack_line(a, o->stack) == stack_line(a, cur->stack))
        return NGR_FK_LOST_UPDATE;
    if (!cur->pset && cur->lset)
        return NGR_FK_CHECK_THEN_ACT; /* checked outside, acted under a lock taken after */
    if (!cur->pset) { /* unprotected, lines differ: count how often its check site runs */
        bool created;
        struct site_count *sc = site_count(a, vix, top_loc(a, o->stack), &created);
        if (created || !v->watch)
            sc->reads++; /* the read that opened this window was not counted yet */
        sc->windows++;
        v->watch = 1;
    }
    return CLS_LINES_DIFFER; /* protected windows count as lost updates if they ever conflict */
}

/* Check-then-act on a container's shape: a key written (or deleted) by a function activation that
 * first read the whole container — its size (len, a truth test), a snapshot, its first key — acts
 * on what that read saw: `if len(d) > N: del d[next(iter(d))]`, `if heap: heappop(heap)` on a
 * key, an LRU's size check then evict.  Another thread's write of any key in between, with no
 * lock held across both, is a check-then-act on the container.  The window is kept per container
 * (the last one), as the whole-container writes are, so that writes before and after it pair. */
static void container_window(struct an *a, const struct ngr_event *ev, struct base_state *b,
                             const struct acc *cur, bool keyed, const struct actx *x)
{
    uint32_t tix = cur->tix;
    struct athr *T = &a->th[tix];
    /* another thread's container window, unordered with this write of the container */
    if (b->has_cwin && b->cwin.tix != tix && unordered_at(a, b->cwin.tix, b->cwin.clk, tix) &&
        lset_disjoint(&a->L, b->cwin.pset, cur->lset)) {
        struct acc_full wf = expand(a, &b->cwin), cf = expand(a, cur);
        candidate(a, NGR_FK_CHECK_THEN_ACT, b->vix, &wf, true, &cf, true);
    }
    if (!keyed)
        return; /* a write of the whole container closes a window of its own record */
    const struct openread *o = open_find(T, b->vix);
    if (!o || o->frame != ev->frame_id || (o->kind != NGR_ACC_READ && o->kind != NGR_ACC_ITER_BEGIN))
        return;
    struct acc w = *cur;
    struct aux ax = {.nstack = ev->native_stack_id, .rstack = o->stack, .rkind = o->kind,
                     .ratomic = o->atomic, .rlset = o->lset};
    w.window = 1;
    w.cls = NGR_FK_CHECK_THEN_ACT;
    w.pset = held_since(a, x, o->mark);
    w.aux = aux_intern(a, &ax);
    /* other threads' writes of the container seen before it */
    for (unsigned i = 0; i < b->nkw; i++) {
        const struct acc *k = &b->kw[i];
        if (k->tix != tix && unordered_at(a, k->tix, k->clk, tix) && lset_disjoint(&a->L, w.pset, k->lset)) {
            struct acc_full wf = expand(a, &w), kf = expand(a, k);
            candidate(a, NGR_FK_CHECK_THEN_ACT, b->vix, &wf, true, &kf, true);
            break;
        }
    }
    b->cwin = w;
    b->has_cwin = true;
}

/* Keeps cur as the last write, and the previous last write as w[1] when another thread made it
 * (so that w[1] is the last write by a thread other than w[0]'s); *n counts those kept. */
static inline void keep_write(struct acc w[2], uint8_t *n, const struct acc *cur)
{
    if (*n && w[0].tix != cur->tix) {
        w[1] = w[0];
        *n = 2;
    }
    w[0] = *cur;
    if (!*n)
        *n = 1;
}

static void on_write(struct an *a, const struct ngr_event *ev, uint32_t vix, uint32_t bix, const struct actx *x)
{
    struct var *v = &a->vars[vix];
    uint32_t tix = ev->tix;
    struct athr *T = &a->th[tix];
    bool owned = ordered_after_all(a, v, tix);
    struct acc cur = {.tix = tix, .kind = ev->kind & 7, .atomic = ev->atomic, .clk = T->clk, .lset = x->lset,
                      .pset = x->lset, .stack = ev->stack_id};
    struct aux ax = {.nstack = ev->native_stack_id};
    struct openread *o = open_find(T, vix);
    if (o) {
        if (o->frame == ev->frame_id && o->kind != NGR_ACC_ITER_BEGIN) {
            cur.window = 1;
            ax.rstack = o->stack;
            ax.rkind = o->kind;
            ax.ratomic = o->atomic;
            ax.rlset = o->lset;
            cur.pset = held_since(a, x, o->mark);
            cur.cls = window_class(a, v, vix, o, &cur) & 7;
        }
        open_close(T, vix, o); /* the write closes the thread's open read, whatever its activation */
    }
    if (cur.window || ax.nstack)
        cur.aux = aux_intern(a, &ax);
    if (cur.window) { /* other threads' reads at this window's check site, seen before it */
        uint32_t loc = top_loc(a, ax.rstack);
        for (unsigned i = 0; i < NSLOT && loc; i++) {
            const struct rslot *s = &v->r[i];
            if (!s->clk || s->tix == tix)
                continue;
            /* symmetric to check_same_site_read: the read is the earlier access here */
            if (unordered_at(a, s->tix, s->clk, tix) && lset_disjoint(&a->L, cur.pset, s->lset) &&
                loc == top_loc(a, s->stack)) {
                struct acc_full wf = expand(a, &cur);
                struct acc_full rd = {.tix = s->tix, .clk = s->clk, .lset = s->lset, .pset = s->lset,
                                      .stack = s->stack, .kind = s->kind, .atomic = s->atomic};
                candidate(a, cur.cls, vix, &wf, true, &rd, true);
            }
        }
    }
    if (!owned) {
        const struct acc *prev = v->nw && v->w[0].tix != tix ? &v->w[0] : v->nw > 1 ? &v->w[1] : NULL;
        if (prev)
            check_pair(a, vix, prev, &cur);
    }
    struct base_state *b = &a->bases[bix];
    container_window(a, ev, b, &cur, v->key != 0, x);
    /* a clear of the whole container by another thread writes this key too */
    if (cur.window && v->key) {
        for (unsigned i = 0; i < b->nkw; i++) {
            const struct acc *w = &b->kw[i];
            if (w->kind == NGR_ACC_CLEAR && w->tix != tix && unordered_at(a, w->tix, w->clk, tix) &&
                lset_disjoint(&a->L, cur.pset, w->lset)) {
                struct acc_full wf = expand(a, &cur), cf = expand(a, w);
                candidate(a, cur.cls, vix, &wf, true, &cf, true);
                break;
            }
        }
    }
    /* a write to any key (or the whole container) mutates what an iteration walks */
    if (b->has_it && b->it.tix != tix && unordered_at(a, b->it.tix, b->it.clk, tix) &&
        lset_disjoint(&a->L, b->it.pset, cur.lset)) {
        struct acc_full itf = expand(a, &b->it), wf = expand(a, &cur);
        candidate(a, NGR_FK_ITERATION_DURING_MUTATION, b->vix, &itf, false, &wf, true);
    }
    keep_write(b->kw, &b->nkw, &cur);
    keep_write(v->w, &v->nw, &cur);
    v->wwin = v->w[0].window || (v->nw > 1 && v->w[1].window);
    for (unsigned i = 0; i < NSLOT; i++)
        v->r[i].clk = 0;
    v->lost_reads = 0;
}

static void on_iter_end(struct an *a, const struct ngr_event *ev, uint32_t vix, uint32_t bix, const struct actx *x)
{
    uint32_t tix = ev->tix;
    struct athr *T = &a->th[tix];
    struct openread *o = open_find(T, vix);
    if (!o || o->kind != NGR_ACC_ITER_BEGIN || o->frame != ev->frame_id)
        return;
    struct acc it = {.tix = tix, .kind = NGR_ACC_ITER_BEGIN, .clk = T->clk, .lset = o->lset,
                     .pset = held_since(a, x, o->mark), .stack = o->stack};
    open_close(T, vix, o); /* the iteration's window is complete */
    struct base_state *b = &a->bases[bix];
    for (unsigned i = 0; i < b->nkw; i++) {
        const struct acc *w = &b->kw[i];
        if (w->tix != tix && unordered_at(a, w->tix, w->clk, tix) && lset_disjoint(&a->L, it.pset, w->lset)) {
            struct acc_full itf = expand(a, &it), wf = expand(a, w);
            candidate(a, NGR_FK_ITERATION_DURING_MUTATION, b->vix, &itf, false, &wf, true);
            break;
        }
    }
    b->it = it;
    b->has_it = true;
}

void on_access(struct an *a, const struct ngr_event *ev, uint32_t vix, uint32_t bix, const struct actx *x)
{
    struct athr *T = &a->th[ev->tix];
    T->acc_clk = T->clk; /* clocks.c: what a clock must reach to order all of the thread's accesses */
    if (ev->atomic && (ev->kind == NGR_ACC_ITER_BEGIN || ev->kind == NGR_ACC_ITER_END)) {
        /* An atomic snapshot (d.copy(), list(d), lst[:] ...: one operation under the container's
         * lock): a read of the whole container, not an iteration another thread can run into.
         * Its end adds nothing. */
        if (ev->kind == NGR_ACC_ITER_BEGIN) {
            struct ngr_event rd = *ev;
            rd.kind = NGR_ACC_READ;
            on_read(a, &rd, vix, x);
        }
        return;
    }
    switch (ev->kind) {
    case NGR_ACC_READ:
    case NGR_ACC_CONTAINS:
    case NGR_ACC_ITER_BEGIN:
        on_read(a, ev, vix, x);
        break;
    case NGR_ACC_ITER_END:
        on_iter_end(a, ev, vix, bix, x);
        break;
    case NGR_ACC_WRITE:
    case NGR_ACC_DELETE:
    case NGR_ACC_CLEAR:
        on_write(a, ev, vix, bix, x);
        break;
    default:
        break;
    }
}
