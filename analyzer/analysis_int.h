/* analysis_int.h — the state the analysis files share (not an interface: analysis.h is).
 *
 *   lockset.c     interned locksets
 *   vartab.c      the table of per-variable records and whole-container facts
 *   clocks.c      vector clocks: threads, queues/events/futures, barriers
 *   access.c      what one access does to its variable: windows, ownership, candidates
 *   emit.c        candidates -> findings with names, messages, hints and stable ids
 *   analysis.c    the driver: replay, prefetch pipeline, one trace after another
 *
 * Sizes matter here: a large trace has millions of variable identities (every dict key is one),
 * each access touches one record at random, and the speed of the whole analysis is the number of
 * cache lines those records span.  So a record is 128 bytes (two lines), an access inside it 24
 * bytes (rarely needed detail sits in the aux table), and a thread's open read windows live
 * with the thread, not in every variable. */
#ifndef NGR_AN_ANALYSIS_INT_H
#define NGR_AN_ANALYSIS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis.h"
#include "replay.h"
#include "util.h"

#define NSLOT 4              /* readers remembered per variable */
#define MAX_CANDIDATES 65536 /* distinct (kind, variable, site pair) per trace */
#define MAX_THREADS (1u << 24) /* thread indexes are 24-bit fields below */

/* Finding class of a window (acc.cls): a NGR_FK_* kind, or provisional: a window whose read and
 * write sit on different lines is a check-then-act when the read site runs more often than it
 * opens a window (the check usually finds the work done: `if x is None: x = ...`), else a lost
 * update (`old = x` ... `x = f(old)`, every time).  Resolved from the per-site counts when the
 * candidates become findings. */
#define CLS_LINES_DIFFER 5

/* ---- locksets (lockset.c): interned sorted arrays of lock object ids; id 0 is the empty set -- */

struct lsets {
    uint64_t *pool;
    size_t npool, pool_cap;
    struct lsdef { uint32_t off, n, next; } *defs; /* next: chain of sets with the same hash */
    size_t ndefs, defs_cap;
    struct ngr_map by_hash; /* hash -> first def */
};

uint32_t lset_intern(struct lsets *L, const uint64_t *o, size_t n);
bool lset_disjoint(const struct lsets *L, uint32_t a, uint32_t b);
/* The set of locks in held[] acquired at or before replay serial `mark` (all: UINT64_MAX). */
uint32_t lset_of_held(struct lsets *L, const struct ngr_held *held, size_t nheld, uint64_t mark);
void lsets_free(struct lsets *L);

/* ---- accesses ---------------------------------------------------------------------------------- */

/* Detail of an access that few accesses have: the opening read of a read-modify-write window,
 * and a native stack.  Interned (aux.c-style, in vartab.c), so an access carries one id. */
struct aux {
    uint32_t rstack, rlset, nstack;
    uint8_t rkind;
    bool ratomic;
};

/* One recorded write (or a read-modify-write / iteration window ending at it), 24 bytes. */
struct acc {
    uint32_t tix : 24;     /* thread index */
    uint32_t kind : 3;     /* NGR_ACC_* */
    uint32_t atomic : 1;
    uint32_t window : 1;   /* a read in the same function activation came first */
    uint32_t cls : 3;      /* window: finding kind (NGR_FK_*, CLS_LINES_DIFFER) */
    uint32_t clk;          /* its thread's own clock at the access */
    uint32_t lset;         /* locks held at the access */
    uint32_t pset;         /* locks held across the whole window (= lset without a window) */
    uint32_t stack;
    uint32_t aux;          /* struct aux id, 0 = none */
};

/* The same, spelled out: what a candidate keeps and a finding is made from. */
struct acc_full {
    uint32_t tix, clk, lset, pset, rlset;
    uint32_t stack, nstack, rstack; /* rstack: the window's opening read's stack; 0 = no window */
    uint8_t kind, rkind, cls;
    bool atomic, ratomic, window;
};

/* A read since the variable's last write, by one thread (16 bytes). */
struct rslot {
    uint32_t tix : 24;
    uint32_t kind : 3;
    uint32_t atomic : 1;
    uint32_t : 4;
    uint32_t clk;          /* 0 = empty (clocks start at 1) */
    uint32_t stack;
    uint32_t lset;
};

/* Per variable identity (var_id, key): 128 bytes, aligned, so one access touches two lines. */
struct var {
    uint64_t key;
    uint32_t var_id;
    uint8_t nw;            /* writes kept (0..2) */
    uint8_t rr;            /* round-robin victim among reader slots */
    uint8_t lost_reads : 1; /* an unordered reader was forgotten: ownership cannot be proven */
    uint8_t watch : 1;     /* count reads per site (a CLS_LINES_DIFFER window was seen) */
    uint8_t wwin : 1;      /* one of w[] is a window (a read checks its site against it) */
    uint8_t spare;
    struct acc w[2];       /* w[0]: last write; w[1]: last write by another thread than w[0]'s */
    struct rslot r[NSLOT];
} __attribute__((aligned(64)));

struct base_state {        /* whole-container facts, one per var_id */
    uint32_t vix;          /* the (var_id, 0) identity's record */
    uint8_t nkw;
    bool has_it, has_cwin;
    struct acc kw[2];      /* last writes to any key (or clears) by two different threads */
    struct acc it;         /* last complete iteration window */
    struct acc cwin;       /* last container window: a write of one key whose function activation
                              read the whole container first (`if len(d) > N: del d[k]`) */
};

/* A read that may open a window for a later write of the same variable in the same function
 * activation: kept per thread (open reads are the thread's own business), 4-way set associative
 * by variable, the ways' variables side by side so that a lookup reads one short array; a full
 * set gives up its ways in turn. */
#define OPEN_SETS 64
#define OPEN_WAYS 4
struct openread {
    uint64_t frame, mark;  /* mark: replay serial at the read (locks acquired later are newer) */
    uint32_t stack, lset;
    uint8_t kind;
    bool atomic;
    bool checked;          /* a membership test of the variable came first in this frame */
};
struct openset {
    uint32_t vix1[OPEN_WAYS]; /* variable index + 1; 0 = free */
    uint32_t next;            /* the way to give up when none is free */
    struct openread e[OPEN_WAYS];
};

/* ---- threads and clocks (clocks.c) --------------------------------------------------------- */

/* A vector clock, sparse: sorted runs of columns (thread indexes); a column in no run is 0.
 * A finite value covers one column; VC_ALL, "all of that thread's accesses", covers a run of
 * ended threads every access of which happens-before the clock's owner (clocks.c says why that
 * is exact), so a thread that joined thousands of finished threads keeps one run, not thousands
 * of entries.  Size: the columns that can still tell something, not the number of threads. */
#define VC_ALL UINT32_MAX
struct vseg { uint32_t lo, hi, val; };     /* columns [lo, hi); val < VC_ALL only when hi == lo + 1 */
struct vclock { struct vseg *s; size_t n, cap; };

struct athr {
    struct vclock vc;      /* other threads' components; at END its final clock (own column VC_ALL) */
    struct vclock spawn;   /* parent's clock at SPAWN, until BEGIN consumes it */
    uint32_t clk;          /* own component (from 1; an access's clock) */
    uint32_t acc_clk;      /* clk at its latest access */
    uint32_t fin;          /* ended: acc_clk at END (no access of the thread has a larger clock) */
    uint64_t lver;
    uint32_t lset;
    bool lset_valid, ended;
    bool spawned;          /* began after its SPAWN: the spawn clock consumed */
    bool has_spawn;        /* spawn holds the SPAWN's clock */
    uint32_t parent1;      /* index + 1 of the thread that spawned it, 0 = unknown */
    uint32_t parent_clk;   /* the parent's own clock component when it spawned this thread */
    struct openset *open;  /* OPEN_SETS of them, allocated at the first read */
};

/* Component `col` of thread `tix`'s clock: what of thread col happens-before tix's current point. */
static inline uint32_t vc_at(const struct athr *T, uint32_t tix, uint32_t col)
{
    if (col == tix)
        return T->clk;
    const struct vseg *s = T->vc.s;
    size_t lo = 0, hi = T->vc.n;
    while (lo < hi) { /* first run ending after col */
        size_t m = (lo + hi) / 2;
        if (s[m].hi <= col)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < T->vc.n && s[lo].lo <= col ? s[lo].val : 0;
}

struct barrier;
struct spans;

struct cand {
    uint8_t kind;
    bool observed;
    uint32_t vix;
    uint64_t count;
    struct acc_full a[2];  /* a[0]: opening access (op in .kind), a[1]: the conflicting access */
};

struct an {
    const struct ngr_trace *t;
    struct ngr_replay r;
    size_t n;              /* threads */
    struct athr *th;
    struct lsets L;
    /* variables (vartab.c): open addressing over (var_id, key) into big anonymous mappings */
    struct var *vars;
    size_t nvars, vars_bytes;
    struct vslot { uint32_t tag, ix1; } *vslots; /* tag: hash >> 32; ix1: 1 + var index, 0 = empty */
    size_t vslot_cap, vslot_bytes;
    unsigned vslot_shift;  /* 64 - log2(vslot_cap): a slot index is the hash's top bits */
    struct base_state *bases;
    size_t nbases, bases_cap;
    uint32_t *base_dense;  /* var_id -> 1 + base index, for small var ids */
    size_t base_dense_cap;
    struct ngr_map base_map; /* the same for the others */
    struct aux *aux;       /* [0] unused: id 0 is "no aux" */
    size_t naux, aux_cap;
    struct ngr_map aux_map;
    /* locksets of one lock, the usual case, by lock object: no sort, no intern per acquire */
    struct { uint64_t obj; uint32_t lset; } single[256];
    uint32_t *aux_next;    /* chain of aux records with the same hash */
    size_t aux_next_cap;
    /* sync objects with SEND/RECV: obj -> row of objvc (OBJ_NONE once freed); FREE puts the
     * row on objfree for the next object, so rows are as many as live objects */
    struct ngr_map objs;
    struct vclock *objvc;
    size_t nobjs, objs_cap;
    uint32_t *objfree;
    size_t nobjfree, objfree_cap;
    struct ngr_map handoffs; /* locks a thread released for another (obj + 1 -> 1): their acquires order */
    struct ngr_map barrier_map;
    struct barrier *barriers;
    size_t nbarriers, barriers_cap;
    uint32_t *barfree;
    size_t nbarfree, barfree_cap;
    struct vclock scratch; /* clocks.c: a merge's output before it becomes the clock */
    /* reads and windows per (variable, read site) for CLS_LINES_DIFFER */
    struct ngr_map site_map;
    uint32_t *top_loc, *top_line; /* by stack id */
    uint32_t ntop;
    struct site_count { uint64_t reads, windows; } *sites;
    size_t nsites, sites_cap;
    /* candidates */
    struct ngr_map cand_map;
    struct cand *cands;
    size_t ncands, cands_cap;
    uint64_t dropped_cands;
    struct spans *spans;   /* spans.c: the tests accesses ran in; NULL until a trace's first MARK */
};

/* The thread's lock state when the access was read from the trace (the replay applies a sync
 * record's effect as soon as it returns it, so queued accesses carry their own copy). */
struct actx {
    uint32_t lset;
    uint64_t mark;                 /* replay serial: locks acquired later have larger serials */
    const struct ngr_held *held;
    size_t nheld;
};

/* vartab.c */
/* Fibonacci hashing: a multiply spreads (var_id, key) into the top bits, which index the slots. */
static inline uint64_t var_hash(uint32_t var_id, uint64_t key)
{
    return (key ^ ((uint64_t)var_id << 32 | var_id)) * 0x9e3779b97f4a7c15ull;
}
/* The record of (var_id, key), made when new; h = var_hash(var_id, key). */
uint32_t var_lookup(struct an *a, uint32_t var_id, uint64_t key, uint64_t h);
/* The same without reading records: the first record whose slot has h's tag, or a new one.  It
 * can be another identity with the same tag (rarely): the caller checks once the record is in
 * the cache and then asks var_lookup(), and base_index() again (var_id's container facts may
 * only be made by that var_lookup()). */
uint32_t var_guess(struct an *a, uint32_t var_id, uint64_t key, uint64_t h);
static inline const void *vslot_addr(const struct an *a, uint64_t h)
{
    return a->vslot_cap ? &a->vslots[h >> a->vslot_shift] : NULL;
}
/* Index of var_id's whole-container facts, made with var_id's first record (by var_lookup(), or
 * by var_guess() when it makes a new record); meaningless for a var_id with no record yet. */
uint32_t base_index_slow(const struct an *a, uint32_t var_id);
static inline uint32_t base_index(const struct an *a, uint32_t var_id)
{
    return var_id < a->base_dense_cap ? a->base_dense[var_id] - 1 : base_index_slow(a, var_id);
}
uint32_t aux_intern(struct an *a, const struct aux *x);
static inline const struct aux *aux_of(const struct an *a, uint32_t id) { return &a->aux[id]; }
void vartab_free(struct an *a);

/* clocks.c */
void clocks_init(struct an *a);
void on_sync(struct an *a, const struct ngr_event *ev);
void on_thread(struct an *a, const struct ngr_event *ev);
void clocks_free(struct an *a);

/* access.c */
void on_access(struct an *a, const struct ngr_event *ev, uint32_t vix, uint32_t bix, const struct actx *x);
void build_top_cache(struct an *a);
uint32_t top_loc(const struct an *a, uint32_t stack_id);
unsigned stack_line(const struct an *a, uint32_t stack_id);
struct site_count *site_count(struct an *a, uint32_t vix, uint32_t loc, bool *created);

/* emit.c */
void emit_candidates(struct an *a, struct ngr_report *rep);

#endif
