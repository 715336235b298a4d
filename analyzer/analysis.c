/* analysis.c — see analysis.h for the algorithm.  The replay (replay.c) gives events in order with
 * each thread's lockset already maintained; this file adds vector clocks, per-variable state and
 * the pairing of conflicting accesses into candidate findings, then turns candidates into
 * findings.h records with names resolved. */
#include "analysis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay.h"
#include "util.h"

#define NSLOT 4             /* readers remembered per variable */
#define MAX_CANDIDATES 65536 /* distinct (kind, variable, site pair) per trace */
/* Provisional class of a window whose read and write sit on different lines: a check-then-act
 * when the read site runs more often than it opens a window (the check usually finds the work
 * done: `if x is None: x = ...`), else a lost update (`old = x` ... `x = f(old)`, every time).
 * Resolved from the per-site counts when the candidates become findings. */
#define CLS_LINES_DIFFER 0x10

/* ---- locksets: interned sorted arrays of lock object ids; id 0 is the empty set --------------- */

struct lsets {
    uint64_t *pool;
    size_t npool, pool_cap;
    struct lsdef { uint32_t off, n, next; } *defs; /* next: chain of sets with the same hash */
    size_t ndefs, defs_cap;
    struct ngr_map by_hash; /* hash -> 1 + first def */
};

static uint64_t lset_hash(const uint64_t *o, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = ngr_mix64(h ^ o[i]);
    return h ? h : 1;
}

static uint32_t lset_intern(struct lsets *L, const uint64_t *o, size_t n)
{
    if (!n)
        return 0;
    if (!L->ndefs) { /* def 0 is the empty set */
        NGR_GROW(L->defs, L->defs_cap, 1);
        L->ndefs = 1;
    }
    uint64_t h = lset_hash(o, n);
    uint32_t *first = ngr_map_get_maybe(&L->by_hash, h);
    for (uint32_t d = first ? *first : 0; d; d = L->defs[d].next)
        if (L->defs[d].n == n && memcmp(L->pool + L->defs[d].off, o, n * sizeof *o) == 0)
            return d;
    NGR_GROW(L->pool, L->pool_cap, L->npool + n);
    memcpy(L->pool + L->npool, o, n * sizeof *o);
    NGR_GROW(L->defs, L->defs_cap, L->ndefs + 1);
    uint32_t id = (uint32_t)L->ndefs++;
    L->defs[id] = (struct lsdef){(uint32_t)L->npool, (uint32_t)n, first ? *first : 0};
    L->npool += n;
    ngr_map_put(&L->by_hash, h, id);
    return id;
}

static bool lset_disjoint(const struct lsets *L, uint32_t a, uint32_t b)
{
    if (!a || !b)
        return true;
    if (a == b)
        return false;
    const uint64_t *x = L->pool + L->defs[a].off, *y = L->pool + L->defs[b].off;
    size_t i = 0, j = 0, nx = L->defs[a].n, ny = L->defs[b].n;
    while (i < nx && j < ny) {
        if (x[i] == y[j])
            return false;
        if (x[i] < y[j])
            i++;
        else
            j++;
    }
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The set of locks in th->held acquired at or before serial `mark` (all when mark is max). */
static uint32_t lset_of_held(struct lsets *L, const struct ngr_held *held, size_t nheld, uint64_t mark)
{
    uint64_t tmp[64];
    size_t n = 0;
    for (size_t i = 0; i < nheld && n < 64; i++)
        if (held[i].serial <= mark)
            tmp[n++] = held[i].obj;
    if (n > 1) {
        qsort(tmp, n, sizeof *tmp, cmp_u64);
        size_t k = 1;
        for (size_t i = 1; i < n; i++)
            if (tmp[i] != tmp[k - 1])
                tmp[k++] = tmp[i];
        n = k;
    }
    return lset_intern(L, tmp, n);
}

/* ---- per-variable state ------------------------------------------------------------------------ */

/* One recorded access, or a read-modify-write / iteration window ending at it. */
struct acc {
    uint32_t tix, clk;     /* thread index, its own clock at the access */
    uint32_t lset;         /* locks held at the access */
    uint32_t pset;         /* locks held across the whole window (= lset without a window) */
    uint32_t rlset;        /* locks held at the window's opening read */
    uint32_t stack, nstack, rstack; /* rstack: the opening read's stack; 0 = no window */
    uint8_t kind, rkind, cls;       /* cls: finding kind of the window */
    bool atomic, ratomic, window;
};

struct rslot {
    uint32_t tix, clk, stack, lset;
    uint64_t frame, mark;  /* mark: replay serial at the read (locks acquired later are newer) */
    uint8_t kind;
    bool atomic;
    bool hb;               /* counts for ownership (a read since the last write) */
    bool open;             /* may open a window for a later write in the same frame */
    bool checked;          /* a membership test of the variable came first in this frame */
};

/* Four cache lines, aligned: a large trace has millions of these, each access misses on one at
 * random, and run_batch() prefetches exactly its lines.  The identity (var_id, key) is kept apart
 * in a->ids (needed only to grow the slots and to name findings). */
struct var {
    uint32_t bix;          /* index into a->bases of the (var_id, 0) identity's whole-container facts */
    uint8_t nw, rr;        /* writes kept (0..2); round-robin victim for readers */
    bool lost_reads;       /* an unordered reader was forgotten: ownership cannot be proven */
    bool watch;            /* count reads per site (a CLS_LINES_DIFFER window was seen) */
    bool keyed;            /* a dict key (key != 0) */
    struct rslot r[NSLOT];
    struct acc w[2];       /* w[0]: last write; w[1]: last write by another thread than w[0]'s */
} __attribute__((aligned(64)));

struct var_id_key {
    uint64_t key;
    uint32_t var_id;
};

struct base_state {        /* whole-container facts, kept on the (var_id, 0) identity */
    uint32_t vix;          /* that identity's variable */
    struct acc kw[2];      /* last writes to any key (or clears) by two different threads */
    uint8_t nkw;
    bool has_it;
    struct acc it;         /* last complete iteration window */
};

struct cand {
    uint8_t kind;
    bool observed;
    uint32_t vix;
    uint64_t count;
    struct acc a[2];       /* a[0]: opening access (op in .kind), a[1]: the conflicting write */
};

struct athr {
    uint32_t *vc;
    uint32_t *final_vc;    /* at END */
    uint32_t *spawn_vc;    /* parent's clock at SPAWN */
    uint64_t lver;
    uint32_t lset;
    bool lset_valid, ended;
    bool spawned;          /* began after its SPAWN: spawn_vc consumed */
    uint32_t parent1;      /* index + 1 of the thread that spawned it, 0 = unknown */
    uint32_t parent_clk;   /* the parent's own clock component when it spawned this thread */
};

struct an {
    const struct ngr_trace *t;
    struct ngr_replay r;
    size_t n;              /* threads */
    struct athr *th;
    struct lsets L;
    /* variables: open addressing over (var_id, key) */
    struct var *vars;
    size_t nvars;
    struct var_id_key *ids; /* by variable index */
    size_t ids_bytes;
    struct vslot { uint64_t key; uint32_t var_id, ix; } *vslots; /* ix: 1 + var index, 0 = empty */
    size_t vslot_cap, vslot_bytes, vars_bytes;
    struct base_state *bases;
    size_t nbases, bases_cap;
    /* sync objects with SEND/RECV: obj -> index into objvc (rows of n clocks) */
    struct ngr_map objs;
    uint32_t *objvc;
    size_t nobjs, objs_cap;
    /* reads and windows per (variable, read site) for CLS_LINES_DIFFER */
    struct ngr_map site_map;
    uint32_t *top_loc, *top_line; /* by stack id */
    uint32_t ntop;
    struct site_count { uint64_t reads, windows; } *sites;
    size_t nsites, sites_cap;
    struct ngr_map barrier_map;
    struct barrier *barriers;
    size_t nbarriers, barriers_cap;
    /* candidates */
    struct ngr_map cand_map;
    struct cand *cands;
    size_t ncands, cands_cap;
    uint64_t dropped_cands;
};

/* The variable table and its slots reach hundreds of MB on a large trace (one record per
 * (variable, dict key)).  They live in their own anonymous mappings: pages are zero until first
 * touched (no memset of the grown half, so the resident size follows the records in use, not the
 * capacity), growth is an mremap (no copy through the cache), and transparent huge pages are
 * asked for once a table passes 4 MiB, because with 4 KiB pages nearly every access of a random
 * record is a TLB miss too. */
static void *big_grow(void *p, size_t *bytes, size_t need)
{
    if (need <= *bytes)
        return p;
    size_t nb = *bytes ? *bytes : (size_t)1 << 16;
    while (nb < need)
        nb *= 2;
    void *q = p ? mremap(p, *bytes, nb, MREMAP_MAYMOVE) : mmap(NULL, nb, PROT_READ | PROT_WRITE,
                                                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) {
        fprintf(stderr, "nogilrace: out of memory (%zu bytes)\n", nb);
        exit(2);
    }
#ifdef MADV_HUGEPAGE
    if (nb >= ((size_t)4 << 20)) /* small traces (tests, fuzzing) should not fault in 2 MiB pages */
        madvise(q, nb, MADV_HUGEPAGE);
#endif
    *bytes = nb;
    return q;
}

static void big_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

static inline uint64_t var_hash(uint32_t var_id, uint64_t key)
{
    return ngr_mix64(((uint64_t)var_id << 32 | (uint32_t)key) ^ ngr_mix64(key >> 32) ^ 0x5bd1e995u);
}

static void vslots_rehash(struct an *a)
{
    size_t cap = a->vslot_cap ? a->vslot_cap * 2 : 1024, bytes = 0;
    big_free(a->vslots, a->vslot_bytes);
    a->vslots = big_grow(NULL, &bytes, cap * sizeof *a->vslots);
    a->vslot_bytes = bytes;
    a->vslot_cap = cap;
    for (size_t i = 0; i < a->nvars; i++) {
        size_t j = var_hash(a->ids[i].var_id, a->ids[i].key) & (cap - 1);
        while (a->vslots[j].ix)
            j = (j + 1) & (cap - 1);
        a->vslots[j] = (struct vslot){a->ids[i].key, a->ids[i].var_id, (uint32_t)i + 1};
    }
}

static uint32_t var_lookup(struct an *a, uint32_t var_id, uint64_t key)
{
    if ((a->nvars + 1) * 2 > a->vslot_cap)
        vslots_rehash(a);
    size_t mask = a->vslot_cap - 1;
    size_t j = var_hash(var_id, key) & mask;
    for (;; j = (j + 1) & mask) {
        const struct vslot *sl = &a->vslots[j];
        if (!sl->ix)
            break;
        if (sl->var_id == var_id && sl->key == key)
            return sl->ix - 1;
    }
    if ((a->nvars + 1) * sizeof *a->vars > a->vars_bytes)
        a->vars = big_grow(a->vars, &a->vars_bytes, (a->nvars + 1) * sizeof *a->vars);
    if ((a->nvars + 1) * sizeof *a->ids > a->ids_bytes)
        a->ids = big_grow(a->ids, &a->ids_bytes, (a->nvars + 1) * sizeof *a->ids);
    uint32_t ix = (uint32_t)a->nvars++;
    a->vslots[j] = (struct vslot){key, var_id, ix + 1};
    a->ids[ix] = (struct var_id_key){key, var_id};
    uint32_t bix;
    if (key) {
        /* may rehash the slots (j is stale from here) and move a->vars: read it after the call */
        uint32_t base = var_lookup(a, var_id, 0);
        bix = a->vars[base].bix;
    } else { /* every whole variable gets its container facts now: keyed records then point there */
        NGR_GROW(a->bases, a->bases_cap, a->nbases + 1);
        memset(&a->bases[a->nbases], 0, sizeof *a->bases);
        a->bases[a->nbases].vix = ix;
        bix = (uint32_t)a->nbases++;
    }
    struct var *v = &a->vars[ix];
    memset(v, 0, sizeof *v);
    v->bix = bix;
    v->keyed = key != 0;
    return ix;
}

static inline struct base_state *base_of(struct an *a, uint32_t vix)
{
    return &a->bases[a->vars[vix].bix];
}

/* ---- vector clocks --------------------------------------------------------------------------- */

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

/* ---- candidates ------------------------------------------------------------------------------ */

static void candidate(struct an *a, unsigned kind, uint32_t vix, const struct acc *first, bool first_is_read,
                      const struct acc *conflict, bool observed)
{
    struct acc x = *first;
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
}

/* ---- events ---------------------------------------------------------------------------------- */

static uint32_t cur_lset(struct an *a, uint32_t tix)
{
    struct athr *T = &a->th[tix];
    const struct ngr_thread *th = &a->r.threads[tix];
    if (!T->lset_valid || T->lver != th->lock_version) {
        T->lset = lset_of_held(&a->L, th->held, th->nheld, UINT64_MAX);
        T->lver = th->lock_version;
        T->lset_valid = true;
    }
    return T->lset;
}

/* The thread's lock state when the access was read from the trace (the replay applies a sync
 * record's effect as soon as it returns it, so batched accesses carry their own copy). */
struct actx {
    uint32_t lset;
    uint64_t mark;                 /* replay serial: locks acquired later have larger serials */
    const struct ngr_held *held;
    size_t nheld;
};

/* The locks of x held since replay serial `mark` (a window's opening read).  Usually that is every
 * lock held now, whose set x->lset already has: no sort, no interning, per window write. */
static uint32_t held_since(struct an *a, const struct actx *x, uint64_t mark)
{
    for (size_t i = 0; i < x->nheld; i++)
        if (x->held[i].serial > mark)
            return lset_of_held(&a->L, x->held, x->nheld, mark);
    return x->lset;
}

/* Every recorded access of v by another thread happens-before the current access of tix. */
static bool ordered_after_all(const struct an *a, const struct var *v, uint32_t tix)
{
    if (v->lost_reads)
        return false;
    const uint32_t *vc = a->th[tix].vc;
    for (unsigned i = 0; i < v->nw; i++)
        if (v->w[i].tix != tix && v->w[i].clk > vc[v->w[i].tix])
            return false;
    for (unsigned i = 0; i < NSLOT; i++)
        if (v->r[i].hb && v->r[i].tix != tix && v->r[i].clk > vc[v->r[i].tix])
            return false;
    return true;
}

static inline bool unordered(const struct an *a, const struct acc *prev, uint32_t tix)
{
    return prev->clk > a->th[tix].vc[prev->tix];
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

/* Innermost location and line of a stack, from a table built once per trace (stack ids are
 * small and dense in practice; others take the slow path). */
static uint32_t stack_top_loc_slow(const struct ngr_trace *t, uint32_t stack_id);
static void build_top_cache(struct an *a)
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

static inline uint32_t top_loc(const struct an *a, uint32_t stack_id)
{
    return stack_id < a->ntop ? a->top_loc[stack_id] : stack_top_loc_slow(a->t, stack_id);
}

static unsigned stack_line(const struct an *a, uint32_t stack_id)
{
    if (stack_id < a->ntop)
        return a->top_line[stack_id];
    uint32_t loc = stack_top_loc_slow(a->t, stack_id);
    const struct ngr_loc *l = loc ? ngr_trace_loc_maybe(a->t, loc) : NULL;
    return l ? l->line : 0;
}

static uint32_t stack_top_loc_slow(const struct ngr_trace *t, uint32_t stack_id)
{
    const struct ngr_stack *st = stack_id ? ngr_trace_stack_maybe(t, stack_id) : NULL;
    return st && st->depth ? ngr_stack_at(st, 0) : 0;
}

static struct site_count *site_count(struct an *a, uint32_t vix, uint32_t loc, bool *created)
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

/* A read by another thread at the very site where a window of `w` opened, unordered with w and
 * holding none of the window's locks: that thread runs the same check-then-act (or
 * read-modify-write) concurrently, even if in this run it found the work done already. */
static void check_same_site_read(struct an *a, uint32_t vix, const struct acc *w, const struct acc *rd)
{
    if (!w->window || w->tix == rd->tix || !unordered(a, w, rd->tix) || !lset_disjoint(&a->L, w->pset, rd->lset))
        return;
    uint32_t loc = top_loc(a, w->rstack);
    if (loc && loc == top_loc(a, rd->stack))
        candidate(a, w->cls, vix, w, true, rd, true);
}

static void on_read(struct an *a, const struct ngr_event *ev, uint32_t vix, const struct actx *x)
{
    struct var *v = &a->vars[vix];
    uint32_t tix = ev->tix;
    struct rslot *s = NULL;
    for (unsigned i = 0; i < NSLOT; i++)
        if ((v->r[i].hb || v->r[i].open) && v->r[i].tix == tix) {
            s = &v->r[i];
            break;
        }
    if (!s) {
        for (unsigned i = 0; i < NSLOT; i++)
            if (!v->r[i].hb && !v->r[i].open) {
                s = &v->r[i];
                break;
            }
    }
    bool checked = s && s->open && s->frame == ev->frame_id && (s->checked || s->kind == NGR_ACC_CONTAINS);
    if (!s) {
        s = &v->r[v->rr++ % NSLOT];
        if (s->hb && s->clk > a->th[tix].vc[s->tix])
            v->lost_reads = true;
    }
    *s = (struct rslot){.tix = tix, .clk = a->th[tix].vc[tix], .stack = ev->stack_id, .lset = x->lset,
                        .frame = ev->frame_id, .mark = x->mark, .kind = (uint8_t)ev->kind,
                        .atomic = ev->atomic, .hb = true, .open = true, .checked = checked};
    if (v->watch) {
        bool created;
        site_count(a, vix, top_loc(a, ev->stack_id), &created)->reads++;
    }
    for (unsigned i = 0; i < v->nw; i++) {
        if (v->w[i].window && v->w[i].tix != tix) {
            struct acc rd = {.tix = tix, .clk = s->clk, .lset = s->lset, .stack = ev->stack_id,
                             .nstack = ev->native_stack_id, .kind = (uint8_t)ev->kind, .atomic = ev->atomic};
            check_same_site_read(a, vix, &v->w[i], &rd);
        }
    }
}

/* Pairs the current write `cur` with an earlier write `prev` by another thread. */
static void check_pair(struct an *a, uint32_t vix, const struct acc *prev, const struct acc *cur)
{
    if (born_after(a, prev, cur->tix))
        return;
    bool observed = unordered(a, prev, cur->tix);
    if (cur->window && lset_disjoint(&a->L, cur->pset, prev->lset))
        candidate(a, cur->cls, vix, cur, true, prev, observed);
    else if (prev->window && lset_disjoint(&a->L, prev->pset, cur->lset))
        candidate(a, prev->cls, vix, prev, true, cur, observed);
    else if (!prev->atomic && !cur->atomic && lset_disjoint(&a->L, prev->lset, cur->lset))
        candidate(a, NGR_FK_UNPROTECTED_WRITE, vix, prev, false, cur, observed);
}

static void on_write(struct an *a, const struct ngr_event *ev, uint32_t vix, const struct actx *x)
{
    struct var *v = &a->vars[vix];
    uint32_t tix = ev->tix;
    bool owned = ordered_after_all(a, v, tix);
    struct acc cur = {.tix = tix, .clk = a->th[tix].vc[tix], .lset = x->lset, .stack = ev->stack_id,
                      .nstack = ev->native_stack_id, .kind = (uint8_t)ev->kind, .atomic = ev->atomic};
    cur.pset = cur.lset;
    for (unsigned i = 0; i < NSLOT; i++) {
        struct rslot *s = &v->r[i];
        if (!s->open || s->tix != tix)
            continue;
        if (s->frame == ev->frame_id && s->kind != NGR_ACC_ITER_BEGIN) {
            cur.window = true;
            cur.rstack = s->stack;
            cur.rkind = s->kind;
            cur.ratomic = s->atomic;
            cur.rlset = s->lset;
            cur.pset = held_since(a, x, s->mark);
            if (s->kind == NGR_ACC_CONTAINS || s->checked)
                cur.cls = NGR_FK_CHECK_THEN_ACT;
            else if (!cur.pset && !lset_disjoint(&a->L, s->lset, cur.lset))
                cur.cls = NGR_FK_LOST_UPDATE; /* the lock was dropped and taken again in between */
            else if (stack_line(a, s->stack) == stack_line(a, ev->stack_id))
                cur.cls = NGR_FK_LOST_UPDATE;
            else if (!cur.pset && cur.lset)
                cur.cls = NGR_FK_CHECK_THEN_ACT; /* checked outside, acted under a lock taken after */
            else if (cur.pset) {
                cur.cls = CLS_LINES_DIFFER; /* protected: counted as a lost update if it ever conflicts */
            } else {
                cur.cls = CLS_LINES_DIFFER;
                bool created;
                struct site_count *sc = site_count(a, vix, top_loc(a, s->stack), &created);
                if (created || !v->watch)
                    sc->reads++; /* the read that opened this window was not counted yet */
                sc->windows++;
                v->watch = true;
            }
        }
        s->open = false;
    }
    if (cur.window) { /* other threads' reads at this window's check site, seen before it */
        for (unsigned i = 0; i < NSLOT; i++) {
            const struct rslot *o = &v->r[i];
            if (!o->hb || o->tix == tix)
                continue;
            struct acc rd = {.tix = o->tix, .clk = o->clk, .lset = o->lset, .stack = o->stack, .kind = o->kind,
                             .atomic = o->atomic};
            /* symmetric to check_same_site_read: the read is the earlier access here */
            if (unordered(a, &rd, tix) && lset_disjoint(&a->L, cur.pset, rd.lset)) {
                uint32_t loc = top_loc(a, cur.rstack);
                if (loc && loc == top_loc(a, rd.stack))
                    candidate(a, cur.cls, vix, &cur, true, &rd, true);
            }
        }
    }
    if (!owned) {
        const struct acc *prev = v->nw && v->w[0].tix != tix ? &v->w[0] : v->nw > 1 ? &v->w[1] : NULL;
        if (prev)
            check_pair(a, vix, prev, &cur);
    }
    /* a write to any key (or the whole container) mutates what an iteration walks */
    struct base_state *b = base_of(a, vix);
    /* a clear of the whole container by another thread writes this key too */
    if (cur.window && v->keyed) {
        for (unsigned i = 0; i < b->nkw; i++) {
            const struct acc *w = &b->kw[i];
            if (w->kind == NGR_ACC_CLEAR && w->tix != tix && unordered(a, w, tix) &&
                lset_disjoint(&a->L, cur.pset, w->lset)) {
                candidate(a, cur.cls, vix, &cur, true, w, true);
                break;
            }
        }
    }
    if (b->has_it && b->it.tix != tix && unordered(a, &b->it, tix) && lset_disjoint(&a->L, b->it.pset, cur.lset))
        candidate(a, NGR_FK_ITERATION_DURING_MUTATION, b->vix, &b->it, false, &cur, true);
    if (b->nkw && b->kw[0].tix != tix) {
        b->kw[1] = b->kw[0];
        b->nkw = 2;
    }
    b->kw[0] = cur;
    if (!b->nkw)
        b->nkw = 1;
    /* remember the write */
    if (v->nw && v->w[0].tix != tix) {
        v->w[1] = v->w[0];
        v->nw = 2;
    }
    v->w[0] = cur;
    if (!v->nw)
        v->nw = 1;
    for (unsigned i = 0; i < NSLOT; i++)
        v->r[i].hb = false;
    v->lost_reads = false;
}

static void on_iter_end(struct an *a, const struct ngr_event *ev, uint32_t vix, const struct actx *x)
{
    struct var *v = &a->vars[vix];
    uint32_t tix = ev->tix;
    struct rslot *s = NULL;
    for (unsigned i = 0; i < NSLOT; i++)
        if (v->r[i].open && v->r[i].tix == tix && v->r[i].kind == NGR_ACC_ITER_BEGIN && v->r[i].frame == ev->frame_id)
            s = &v->r[i];
    if (!s)
        return;
    s->open = false;
    struct acc it = {.tix = tix, .clk = a->th[tix].vc[tix], .lset = s->lset,
                     .pset = held_since(a, x, s->mark), .stack = s->stack,
                     .kind = NGR_ACC_ITER_BEGIN};
    struct base_state *b = base_of(a, vix);
    for (unsigned i = 0; i < b->nkw; i++) {
        const struct acc *w = &b->kw[i];
        if (w->tix != tix && unordered(a, w, tix) && lset_disjoint(&a->L, it.pset, w->lset)) {
            candidate(a, NGR_FK_ITERATION_DURING_MUTATION, b->vix, &it, false, w, true);
            break;
        }
    }
    b->it = it;
    b->has_it = true;
}

static void on_access(struct an *a, const struct ngr_event *ev, uint32_t vix, const struct actx *x)
{
    switch (ev->kind) {
    case NGR_ACC_READ:
    case NGR_ACC_CONTAINS:
    case NGR_ACC_ITER_BEGIN:
        on_read(a, ev, vix, x);
        break;
    case NGR_ACC_ITER_END:
        on_iter_end(a, ev, vix, x);
        break;
    case NGR_ACC_WRITE:
    case NGR_ACC_DELETE:
    case NGR_ACC_CLEAR:
        on_write(a, ev, vix, x);
        break;
    default:
        break;
    }
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

static void on_sync(struct an *a, const struct ngr_event *ev)
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
        T = &a->th[ev->tix]; /* objvc may have moved, th did not */
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

static void on_thread(struct an *a, const struct ngr_event *ev)
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

/* ---- candidates -> findings ------------------------------------------------------------------------ */

static char *site_of(const struct ngr_finding *f, int i)
{
    const struct ngr_access_info *x = &f->access[i];
    if (!x->depth)
        return ngr_xstrdup("?");
    return ngr_xasprintf("%s:%u:%s", x->stack[0].file, x->stack[0].line, x->stack[0].function);
}

static void fill_access(struct an *a, const struct acc *x, struct ngr_access_info *out)
{
    const struct ngr_trace *t = a->t;
    memset(out, 0, sizeof *out);
    out->op = ngr_xstrdup(ngr_access_kind_name(x->kind));
    out->atomic = x->atomic;
    out->pid = t->hdr.pid;
    out->thread = a->r.threads[x->tix].num;
    out->thread_name = ngr_trace_thread_name(t, out->thread);
    if (x->lset) {
        const struct lsdef *d = &a->L.defs[x->lset];
        out->locks = ngr_xcalloc(d->n, sizeof *out->locks);
        for (uint32_t i = 0; i < d->n; i++)
            out->locks[out->nlocks++] = ngr_trace_obj_name(t, a->L.pool[d->off + i]);
    }
    const struct ngr_stack *st = x->stack ? ngr_trace_stack_maybe(t, x->stack) : NULL;
    if (st && st->depth) {
        out->stack = ngr_xcalloc(st->depth, sizeof *out->stack);
        for (unsigned i = 0; i < st->depth; i++) {
            const struct ngr_loc *l = ngr_trace_loc_maybe(t, ngr_stack_at(st, i));
            struct ngr_frame *fr = &out->stack[out->depth++];
            fr->file = l ? ngr_trace_strdup(t, l->file) : ngr_xstrdup("?");
            fr->function = l ? ngr_trace_strdup(t, l->func) : ngr_xstrdup("?");
            fr->line = l ? l->line : 0;
        }
    }
    const struct ngr_stack *ns = x->nstack ? ngr_trace_nstack_maybe(t, x->nstack) : NULL;
    if (ns && ns->depth) {
        out->native_stack = ngr_xcalloc(ns->depth, sizeof *out->native_stack);
        for (unsigned i = 0; i < ns->depth; i++)
            out->native_stack[out->nnative++] = ngr_trace_strdup(t, ngr_stack_at(ns, i));
    }
}

static const char *kind_hint(unsigned kind)
{
    switch (kind) {
    case NGR_FK_LOST_UPDATE:
        return "hold one lock across the read and the write (with lock: x += 1), in every thread that updates it";
    case NGR_FK_CHECK_THEN_ACT:
        return "make the check and the action one step: take a lock around both (re-check under the lock), "
               "or use an atomic operation such as dict.setdefault() / dict.pop(k, None)";
    case NGR_FK_ITERATION_DURING_MUTATION:
        return "iterate over a snapshot taken under the lock (with lock: items = list(x)) and mutate only under that lock";
    default:
        return "protect every write with one lock, or give each thread its own value (threading.local)";
    }
}

static inline bool is_write(unsigned kind)
{
    return kind == NGR_ACC_WRITE || kind == NGR_ACC_DELETE || kind == NGR_ACC_CLEAR;
}

static inline uint64_t window_key(const struct cand *c)
{
    return ngr_mix64((uint64_t)c->kind << 56 ^ (uint64_t)c->vix << 24 ^ c->a[0].stack) | 1;
}

static void emit_candidates(struct an *a, struct ngr_report *rep)
{
    const struct ngr_trace *t = a->t;
    /* A window that conflicts with another thread's write is reported with that write; the same
     * window met by another thread's read at its check site is then the same bug, not a second. */
    struct ngr_map with_write = {0};
    for (size_t i = 0; i < a->ncands; i++)
        if (a->cands[i].kind != NGR_FK_UNPROTECTED_WRITE && is_write(a->cands[i].a[1].kind))
            ngr_map_put(&with_write, window_key(&a->cands[i]), 1);
    for (size_t i = 0; i < a->ncands; i++) {
        const struct cand *c = &a->cands[i];
        if (!is_write(c->a[1].kind) && ngr_map_get_maybe(&with_write, window_key(c)))
            continue;
        const struct var_id_key *v = &a->ids[c->vix];
        struct ngr_finding f;
        memset(&f, 0, sizeof f);
        f.kind = c->kind;
        if (c->kind == CLS_LINES_DIFFER) {
            bool created;
            const struct site_count *sc = site_count(a, c->vix, top_loc(a, c->a[0].stack), &created);
            f.kind = sc->reads > sc->windows ? NGR_FK_CHECK_THEN_ACT : NGR_FK_LOST_UPDATE;
        }
        f.observed = c->observed;
        f.severity = c->observed ? NGR_SEV_ERROR : NGR_SEV_WARNING;
        f.count = c->count;
        f.var_name = ngr_trace_var_name(t, v->var_id);
        f.key = ngr_trace_key_repr(t, v->key);
        const struct ngr_var *vd = ngr_trace_var_maybe(t, v->var_id);
        f.var_kind = ngr_xstrdup(vd ? ngr_var_kind_name(vd->kind) : "other");
        f.variable = f.key ? ngr_xasprintf("%s[%s]", f.var_name, f.key) : ngr_xstrdup(f.var_name);
        fill_access(a, &c->a[0], &f.access[0]);
        fill_access(a, &c->a[1], &f.access[1]);
        /* stable id: kind, variable name without its key, the two sites sorted — so a
         * `if k not in cache: cache[k] = v` over 300 keys is one finding (the first key shown,
         * the count summing all of them), and object-address keys never enter the id */
        const char *idvar = f.var_name;
        char *s0 = site_of(&f, 0), *s1 = site_of(&f, 1);
        if (strcmp(s0, s1) > 0) {
            char *tmp = s0;
            s0 = s1;
            s1 = tmp;
        }
        const char *kn = ngr_finding_kind_name(f.kind);
        uint64_t h = ngr_fnv1a(NGR_FNV_INIT, kn, strlen(kn) + 1);
        h = ngr_fnv1a(h, idvar, strlen(idvar) + 1);
        h = ngr_fnv1a(h, s0, strlen(s0) + 1);
        h = ngr_fnv1a(h, s1, strlen(s1) + 1);
        snprintf(f.id, sizeof f.id, "NGR-%012" PRIx64, (uint64_t)(h & 0xffffffffffffull));
        const struct ngr_access_info *x0 = &f.access[0], *x1 = &f.access[1];
        const char *fn0 = x0->depth ? x0->stack[0].function : "?";
        switch (f.kind) {
        case NGR_FK_LOST_UPDATE:
            f.message = ngr_xasprintf("lost update on %s: read (line %u) and write (line %u) in %s() are not one "
                                      "atomic step; thread %s %s it in between", f.variable,
                                      x0->depth ? x0->stack[0].line : 0, stack_line(a, c->a[0].rstack), fn0,
                                      x1->thread_name, strcmp(x1->op, "read") ? "writes" : "updates");
            break;
        case NGR_FK_CHECK_THEN_ACT:
            f.message = ngr_xasprintf("check-then-act on %s: %s() tests it (line %u) and then writes it (line %u); "
                                      "thread %s %s", f.variable, fn0,
                                      x0->depth ? x0->stack[0].line : 0, stack_line(a, c->a[0].rstack),
                                      x1->thread_name,
                                      is_write(c->a[1].kind) ? "writes it in between" : "runs the same check concurrently");
            break;
        case NGR_FK_ITERATION_DURING_MUTATION:
            f.message = ngr_xasprintf("iteration during mutation of %s: %s() iterates over it while thread %s "
                                      "modifies it", f.variable, fn0, x1->thread_name);
            break;
        default:
            f.message = ngr_xasprintf("unprotected write to %s from threads %s and %s with no common lock",
                                      f.variable, x0->thread_name, x1->thread_name);
            break;
        }
        f.hint = ngr_xstrdup(kind_hint(f.kind));
        free(s0);
        free(s1);
        ngr_report_merge_finding(rep, &f);
    }
    ngr_map_free(&with_write);
}

/* ---- facts ----------------------------------------------------------------------------------------- */

static void add_warning(struct ngr_report *rep, char *w)
{
    rep->warnings = ngr_xrealloc(rep->warnings, (rep->nwarnings + 1) * sizeof *rep->warnings);
    rep->warnings[rep->nwarnings++] = w;
}

static void facts(const struct ngr_trace *t, struct ngr_report *rep, uint64_t events)
{
    rep->procs = ngr_xrealloc(rep->procs, (rep->processes + 1) * sizeof *rep->procs);
    struct ngr_process_info *p = &rep->procs[rep->processes++];
    p->trace = ngr_xstrdup(t->path);
    p->pid = t->hdr.pid;
    p->ppid = t->hdr.ppid;
    p->cmdline = t->have_process ? ngr_trace_strdup(t, t->cmdline_str) : ngr_xstrdup("");
    p->finished = (t->hdr.flags & NGR_HDR_FINISHED) != 0;
    p->events = events;
    rep->events += events;
    if (t->have_process) {
        if (!rep->python_version) {
            rep->python_version = ngr_trace_strdup(t, t->version_str);
            rep->free_threaded = (t->process_flags & NGR_PROC_FREE_THREADED) != 0;
        }
        if (t->process_flags & NGR_PROC_GIL_ENABLED)
            rep->gil_enabled = true;
    }
    if (!t->meta)
        return;
    for (size_t k = 0; k < t->meta->nchunks; k++) {
        const struct ngr_chunk_ref *ch = &t->meta->chunks[k];
        for (uint64_t off = ch->data; off < ch->data_end;) {
            uint64_t w0 = ngr_trace_word(t, off, 0);
            unsigned op = ngr_w0_op(w0), fl = ngr_w0_flags(w0);
            if (op == NGR_OP_GIL) {
                rep->gil_notes = ngr_xrealloc(rep->gil_notes, (rep->ngil_notes + 1) * sizeof *rep->gil_notes);
                rep->gil_notes[rep->ngil_notes++] =
                    (struct ngr_gil_note){ngr_trace_strdup(t, ngr_w0_arg(w0)), (fl & 1) != 0, t->hdr.pid};
                if (fl & 1)
                    rep->gil_enabled = true;
            } else if (op == NGR_OP_NOTE && fl == NGR_NOTE_WARNING) {
                char *m = ngr_trace_strdup(t, (uint32_t)ngr_trace_word(t, off, 1));
                add_warning(rep, ngr_xasprintf("%s: %s", t->path, m));
                free(m);
            }
            off += 8ull * ngr_w0_words(w0);
        }
    }
}

/* ---- driver ------------------------------------------------------------------------------------------ */

/* Event chunks are read once: when a thread's cursor leaves one, its pages are handed back, so
 * the resident size stays with the analysis state instead of growing with the trace.  Only for
 * a file mapping (MAP_PRIVATE, read-only: the pages are reloaded from the file if ever touched
 * again); never for a caller's buffer. */
static void release_done_chunks(struct an *a, size_t *done)
{
    const struct ngr_trace *t = a->t;
    long pg = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < a->r.nthreads; i++) {
        const struct ngr_thread *th = &a->r.threads[i];
        for (; done[i] < th->chunk && done[i] < th->s->nchunks; done[i]++) {
            uint64_t start = th->s->chunks[done[i]].data - NGR_CHUNK_HEADER_SIZE;
            uint64_t lo = start & ~(uint64_t)(pg - 1), hi = (start + t->chunk_size) & ~(uint64_t)(pg - 1);
            if (start % (uint64_t)pg == 0 && hi > lo && hi <= t->size)
                madvise((void *)(uintptr_t)(t->base + lo), hi - lo, MADV_DONTNEED);
        }
    }
}

/* Accesses are handled in small batches so that the variable table's slots and records can be
 * prefetched: on a large trace nearly every access misses the cache twice otherwise (slot, then
 * record), and that, not the algorithm, bounds the speed. */
#define BATCH 16
#define PEND_HELD 6
struct pend {
    struct ngr_event ev;
    struct actx x;
    uint32_t vix;
    struct ngr_held held[PEND_HELD];
};

static void run_batch(struct an *a, struct pend *b, size_t n)
{
    if (!n)
        return;
    if ((a->nvars + 2 * n + 2) * 2 > a->vslot_cap)
        vslots_rehash(a); /* keep the slots prefetched below where they are */
    for (size_t i = 0; i < n; i++) {
        if (b[i].ev.op != NGR_OP_ACCESS)
            continue;
        b[i].vix = var_lookup(a, b[i].ev.var_id, b[i].ev.key_id);
        const char *v = (const char *)&a->vars[b[i].vix];
        __builtin_prefetch(v);
        __builtin_prefetch(v + 64);
        __builtin_prefetch(v + 128);
        __builtin_prefetch(v + 192);
    }
    for (size_t i = 0; i < n; i++) {
        if (b[i].ev.op == NGR_OP_ACCESS)
            on_access(a, &b[i].ev, b[i].vix, &b[i].x);
        else if (b[i].ev.op == NGR_OP_SYNC)
            on_sync(a, &b[i].ev);
        else
            on_thread(a, &b[i].ev);
    }
}

void ngr_analyze_trace(const struct ngr_trace *t, struct ngr_report *rep, const struct ngr_analysis_opts *o)
{
    struct an *a = ngr_xcalloc(1, sizeof *a);
    a->t = t;
    ngr_replay_init(&a->r, t);
    a->n = a->r.nthreads ? a->r.nthreads : 1;
    a->th = ngr_xcalloc(a->n, sizeof *a->th);
    for (size_t i = 0; i < a->n; i++) {
        a->th[i].vc = ngr_xcalloc(a->n, sizeof(uint32_t));
        a->th[i].vc[i] = 1;
    }
    build_top_cache(a);
    bool progress = o && o->progress && isatty(2);
    uint64_t next_report = 1u << 22;
    struct pend *batch = ngr_xcalloc(BATCH, sizeof *batch);
    uint64_t next_release = 1u << 16;
    size_t *done = t->mapped && t->header_size % 4096 == 0 ? ngr_xcalloc(a->r.nthreads + 1, sizeof *done) : NULL;
    size_t nb = 0;
    /* the replay writes each event straight into the next batch entry (no copy); an entry not
     * queued is simply overwritten by the next event */
    while (ngr_replay_next(&a->r, &batch[nb].ev)) {
        const struct ngr_event *evp = &batch[nb].ev;
        if (evp->op == NGR_OP_ACCESS) {
            const struct ngr_event ev = *evp; /* only the fields used below are kept live */
            const struct ngr_thread *th = &a->r.threads[ev.tix];
            if (th->nheld <= PEND_HELD) {
                struct pend *p = &batch[nb++];
                p->x.lset = cur_lset(a, ev.tix);
                p->x.mark = a->r.serial;
                p->x.nheld = th->nheld;
                if (th->nheld) /* th->held may be NULL: memcpy from NULL is undefined even for 0 bytes */
                    memcpy(p->held, th->held, th->nheld * sizeof *th->held);
                p->x.held = p->held;
                if (a->vslot_cap)
                    __builtin_prefetch(&a->vslots[var_hash(ev.var_id, ev.key_id) & (a->vslot_cap - 1)]);
                if (nb == BATCH) {
                    run_batch(a, batch, nb);
                    nb = 0;
                }
            } else { /* many locks held: no copy, run now while the replay state is this access's */
                run_batch(a, batch, nb); /* entries before nb only: this one stays intact */
                struct actx x = {cur_lset(a, ev.tix), a->r.serial, th->held, th->nheld};
                on_access(a, evp, var_lookup(a, ev.var_id, ev.key_id), &x);
                nb = 0; /* the event is done: its entry is free again */
            }
        } else { /* sync and thread records only touch clocks: they queue in order too */
            nb++;
            if (nb == BATCH) {
                run_batch(a, batch, nb);
                nb = 0;
            }
        }
        if (a->r.events >= next_release) {
            next_release += 1u << 16;
            if (done)
                release_done_chunks(a, done);
        }
        if (progress && a->r.events >= next_report) {
            next_report += 1u << 22;
            fprintf(stderr, "\rnogilrace: %s: %" PRIu64 "M events analysed", t->path, a->r.events >> 20);
        }
    }
    run_batch(a, batch, nb);
    free(batch);
    free(done);
    if (progress && a->r.events >= (1u << 22))
        fputs("\r\033[K", stderr);
    if (a->dropped_cands)
        add_warning(rep, ngr_xasprintf("%s: more than %d distinct race site pairs; %" PRIu64 " dropped", t->path,
                                       MAX_CANDIDATES, a->dropped_cands));
    facts(t, rep, a->r.events);
    emit_candidates(a, rep);
    /* free */
    for (size_t i = 0; i < a->n; i++) {
        free(a->th[i].vc);
        free(a->th[i].final_vc);
        free(a->th[i].spawn_vc);
    }
    free(a->th);
    free(a->L.pool);
    free(a->L.defs);
    ngr_map_free(&a->L.by_hash);
    big_free(a->vars, a->vars_bytes);
    big_free(a->ids, a->ids_bytes);
    big_free(a->vslots, a->vslot_bytes);
    free(a->bases);
    ngr_map_free(&a->objs);
    free(a->objvc);
    ngr_map_free(&a->cand_map);
    free(a->cands);
    ngr_map_free(&a->site_map);
    free(a->sites);
    free(a->top_loc);
    free(a->top_line);
    for (size_t i = 0; i < a->nbarriers; i++) {
        free(a->barriers[i].cnt);
        free(a->barriers[i].vc[0]);
        free(a->barriers[i].vc[1]);
    }
    free(a->barriers);
    ngr_map_free(&a->barrier_map);
    ngr_replay_free(&a->r);
    free(a);
}

int ngr_analyze_files(char *const *paths, size_t n, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        struct ngr_trace t;
        if (ngr_trace_open(&t, paths[i], err, errlen) != 0) {
            ngr_trace_close(&t);
            return -1;
        }
        for (size_t w = 0; w < t.nwarnings; w++) {
            fprintf(stderr, "nogilrace: warning: %s\n", t.warnings[w]);
            add_warning(rep, ngr_xstrdup(t.warnings[w]));
        }
        ngr_analyze_trace(&t, rep, o);
        ngr_trace_close(&t);
    }
    ngr_report_sort(rep);
    return 0;
}
