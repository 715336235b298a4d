/* emit.c — candidates become findings: names, stacks and locks resolved from the trace, the
 * provisional class of a window settled, a message and a hint written, and ids made that are
 * stable across runs.  A finding is one bug, a group (findings.h): the candidates of a trace are
 * gathered by group key into site pairs first, each pair's stacks filled once, and the groups
 * then merged into the report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"
#include "groups.h"
#include "spans.h"

static void fill_access(struct an *a, const struct acc_full *x, struct ngr_access_info *out)
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
        return "iterate over an atomic snapshot (items = list(d.items()), d.copy(), lst.copy(): one step under the "
               "container's own lock; not tuple(d), a comprehension or sum()), or iterate and mutate under one lock";
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

/* "file:line:function" of a stack's innermost frame, as the filled access's stack[0] spells it
 * (fill_access): read from the trace before anything is filled, so that a pair seen again on
 * another key or object costs no copy.  With line false, "file:function". */
static char *site_str(const struct an *a, uint32_t stack_id, bool line)
{
    const struct ngr_trace *t = a->t;
    const struct ngr_stack *st = stack_id ? ngr_trace_stack_maybe(t, stack_id) : NULL;
    if (!st || !st->depth)
        return ngr_xstrdup("?");
    const struct ngr_loc *l = ngr_trace_loc_maybe(t, ngr_stack_at(st, 0));
    char *file = l ? ngr_trace_strdup(t, l->file) : ngr_xstrdup("?");
    char *fn = l ? ngr_trace_strdup(t, l->func) : ngr_xstrdup("?");
    char *s = line ? ngr_xasprintf("%s:%u:%s", file, l ? l->line : 0, fn) : ngr_xasprintf("%s:%s", file, fn);
    free(file);
    free(fn);
    return s;
}

static uint64_t hash_strs(const char *const *s, size_t n)
{
    uint64_t h = NGR_FNV_INIT;
    for (size_t i = 0; i < n; i++)
        h = ngr_fnv1a(h, s[i], strlen(s[i]) + 1);
    return h;
}

static void set_id(char id[20], uint64_t h)
{
    snprintf(id, 20, "NGR-%012" PRIx64, (uint64_t)(h & 0xffffffffffffull));
}

/* The group key's code part.  A variable with a name (app.counter, app.Stats().hits, a dict named
 * where it was stored) is one thing whatever code touches it: none.  A name in angle brackets
 * ("<dict>", "<list_iterator>") says only a type, which many unrelated containers share, so the
 * racing code's file:function joins the key: the pattern's first access for a window (the
 * check, the read of the update, the iteration), the lesser of the two writes' for an
 * unprotected write (which write came first is the scheduler's choice). */
static char *group_anchor(const struct an *a, unsigned kind, const char *var_name, const struct cand *c)
{
    if (var_name[0] != '<')
        return ngr_xstrdup("");
    char *s0 = site_str(a, c->a[0].stack, false);
    if (kind != NGR_FK_UNPROTECTED_WRITE)
        return s0;
    char *s1 = site_str(a, c->a[1].stack, false);
    bool first = strcmp(s0, s1) <= 0;
    free(first ? s1 : s0);
    return first ? s0 : s1;
}

/* The instance of a pair: the variable (with the key), both accesses, the message. */
static void fill_pair(struct an *a, const struct cand *c, unsigned kind, const char *var_name,
                      struct ngr_site_pair *p)
{
    const struct var *v = &a->vars[c->vix];
    p->key = ngr_trace_key_repr(a->t, v->key);
    p->variable = p->key ? ngr_xasprintf("%s[%s]", var_name, p->key) : ngr_xstrdup(var_name);
    fill_access(a, &c->a[0], &p->access[0]);
    fill_access(a, &c->a[1], &p->access[1]);
    spans_fill_accesses(a, c, p->access);
    const struct ngr_access_info *x0 = &p->access[0], *x1 = &p->access[1];
    const char *fn0 = x0->depth ? x0->stack[0].function : "?";
    switch (kind) {
    case NGR_FK_LOST_UPDATE:
        p->message = ngr_xasprintf("lost update on %s: read (line %u) and write (line %u) in %s() are not one "
                                   "atomic step; thread %s %s it in between", p->variable,
                                   x0->depth ? x0->stack[0].line : 0, stack_line(a, c->a[0].rstack), fn0,
                                   x1->thread_name, strcmp(x1->op, "read") ? "writes" : "updates");
        break;
    case NGR_FK_CHECK_THEN_ACT:
        p->message = ngr_xasprintf("check-then-act on %s: %s() tests it (line %u) and then writes it (line %u); "
                                   "thread %s %s", p->variable, fn0,
                                   x0->depth ? x0->stack[0].line : 0, stack_line(a, c->a[0].rstack),
                                   x1->thread_name,
                                   is_write(c->a[1].kind) ? "writes it in between" : "runs the same check concurrently");
        break;
    case NGR_FK_ITERATION_DURING_MUTATION:
        p->message = ngr_xasprintf("iteration during mutation of %s: %s() iterates over it while thread %s "
                                   "modifies it", p->variable, fn0, x1->thread_name);
        break;
    default:
        p->message = ngr_xasprintf("unprotected write to %s from threads %s and %s with no common lock",
                                   p->variable, x0->thread_name, x1->thread_name);
        break;
    }
    p->observed = c->observed;
    p->count = c->count;
}

/* This trace's groups while its candidates are gathered. */
struct gather {
    struct ngr_finding *g;
    size_t n, cap;
    struct ngr_map by_group; /* group hash -> index in g */
    struct ngr_map by_pair;  /* mix(group hash, pair hash) -> index in its group's pairs */
    size_t *pairs_cap;       /* per group */
    size_t pcap;             /* of pairs_cap */
    struct ngr_map seen;     /* (group, var id) and (group, key) counted already */
};

/* Counts v's variable and key for group gi once in this trace (distinct var ids are the objects
 * of a class, or the dicts stored under one name; distinct key ids the items). */
static void count_identity(struct an *a, struct gather *G, size_t gi, uint64_t gh, const struct var *v)
{
    struct ngr_finding *f = &G->g[gi];
    uint64_t ko = ngr_mix64(gh ^ ngr_mix64((uint64_t)v->var_id + 0x6f626a)) | 1;
    if (!ngr_map_get_maybe(&G->seen, ko)) {
        ngr_map_put(&G->seen, ko, 1);
        f->objects++;
    }
    if (!v->key)
        return;
    uint64_t kk = ngr_mix64(gh ^ ngr_mix64(v->key ^ 0x6b6579000000ull)) | 1;
    if (ngr_map_get_maybe(&G->seen, kk))
        return;
    ngr_map_put(&G->seen, kk, 1);
    f->keys++;
    if (f->nkey_examples < NGR_MAX_KEY_EXAMPLES) {
        if (!f->key_examples)
            f->key_examples = ngr_xcalloc(NGR_MAX_KEY_EXAMPLES, sizeof *f->key_examples);
        f->key_examples[f->nkey_examples++] = ngr_trace_key_repr(a->t, v->key);
    }
}

static void gather(struct an *a, struct gather *G, const struct cand *c, unsigned kind)
{
    const struct ngr_trace *t = a->t;
    const struct var *v = &a->vars[c->vix];
    char *var_name = ngr_trace_var_name(t, v->var_id);
    const struct ngr_var *vd = ngr_trace_var_maybe(t, v->var_id);
    const char *var_kind = vd ? ngr_var_kind_name(vd->kind) : "other";
    const char *kn = ngr_finding_kind_name(kind);

    /* group id: kind, what the variable is, its name without the key, and for a name that is
     * only a type, the racing code (group_anchor) — never ids, addresses or counts */
    char *anchor = group_anchor(a, kind, var_name, c);
    const char *gk[] = {kn, var_kind, var_name, anchor};
    uint64_t gh = hash_strs(gk, 4);
    free(anchor);
    /* pair id: kind, name without the key, the two sites sorted (the finding id of schema 1-2) */
    char *s0 = site_str(a, c->a[0].stack, true), *s1 = site_str(a, c->a[1].stack, true);
    const char *pk[] = {kn, var_name, strcmp(s0, s1) <= 0 ? s0 : s1, strcmp(s0, s1) <= 0 ? s1 : s0};
    uint64_t ph = hash_strs(pk, 4);
    free(s0);
    free(s1);

    uint32_t *gi = ngr_map_get_maybe(&G->by_group, gh | 1);
    if (!gi) {
        NGR_GROW(G->g, G->cap, G->n + 1);
        NGR_GROW(G->pairs_cap, G->pcap, G->n + 1);
        struct ngr_finding *f = &G->g[G->n];
        memset(f, 0, sizeof *f);
        f->kind = kind;
        set_id(f->id, gh);
        f->var_name = ngr_xstrdup(var_name);
        f->var_kind = ngr_xstrdup(var_kind);
        f->hint = ngr_xstrdup(kind_hint(kind));
        G->pairs_cap[G->n] = 0;
        ngr_map_put(&G->by_group, gh | 1, (uint32_t)G->n);
        gi = ngr_map_get_maybe(&G->by_group, gh | 1);
        G->n++;
    }
    size_t g = *gi;
    struct ngr_finding *f = &G->g[g];
    uint64_t pkey = ngr_mix64(gh ^ ngr_mix64(ph)) | 1;
    uint32_t *pi = ngr_map_get_maybe(&G->by_pair, pkey);
    if (pi) {
        struct ngr_site_pair *p = &f->pairs[*pi];
        uint64_t count = p->count + c->count;
        if (c->observed && !p->observed) { /* keep the instance that was seen unordered */
            ngr_site_pair_free(p);
            set_id(p->id, ph);
            fill_pair(a, c, kind, var_name, p);
        }
        p->count = count;
    } else {
        NGR_GROW(f->pairs, G->pairs_cap[g], f->npairs + 1);
        struct ngr_site_pair *p = &f->pairs[f->npairs];
        memset(p, 0, sizeof *p);
        set_id(p->id, ph);
        fill_pair(a, c, kind, var_name, p);
        ngr_map_put(&G->by_pair, pkey, (uint32_t)f->npairs++);
    }
    count_identity(a, G, g, gh, v);
    spans_add_tests(a, c, f);
    free(var_name);
}

void emit_candidates(struct an *a, struct ngr_report *rep)
{
    /* A window that conflicts with another thread's write is reported with that write; the same
     * window met by another thread's read at its check site is then the same bug, not a second. */
    struct ngr_map with_write = {0};
    for (size_t i = 0; i < a->ncands; i++)
        if (a->cands[i].kind != NGR_FK_UNPROTECTED_WRITE && is_write(a->cands[i].a[1].kind))
            ngr_map_put(&with_write, window_key(&a->cands[i]), 1);
    struct gather G = {0};
    for (size_t i = 0; i < a->ncands; i++) {
        const struct cand *c = &a->cands[i];
        if (!is_write(c->a[1].kind) && ngr_map_get_maybe(&with_write, window_key(c)))
            continue;
        unsigned kind = c->kind;
        if (kind == CLS_LINES_DIFFER) {
            bool created;
            const struct site_count *sc = site_count(a, c->vix, top_loc(a, c->a[0].stack), &created);
            kind = sc->reads > sc->windows ? NGR_FK_CHECK_THEN_ACT : NGR_FK_LOST_UPDATE;
        }
        gather(a, &G, c, kind);
    }
    for (size_t i = 0; i < G.n; i++) {
        ngr_group_settle(&G.g[i]);
        ngr_report_merge_finding(rep, &G.g[i]);
    }
    free(G.g);
    free(G.pairs_cap);
    ngr_map_free(&G.by_group);
    ngr_map_free(&G.by_pair);
    ngr_map_free(&G.seen);
    ngr_map_free(&with_write);
}
