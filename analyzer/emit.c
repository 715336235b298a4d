/* emit.c — candidates become findings: names, stacks and locks resolved from the trace, the
 * provisional class of a window settled, a message and a hint written, and an id made that is
 * stable across runs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"
#include "spans.h"

static char *site_of(const struct ngr_finding *f, int i)
{
    const struct ngr_access_info *x = &f->access[i];
    if (!x->depth)
        return ngr_xstrdup("?");
    return ngr_xasprintf("%s:%u:%s", x->stack[0].file, x->stack[0].line, x->stack[0].function);
}

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

void emit_candidates(struct an *a, struct ngr_report *rep)
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
        const struct var *v = &a->vars[c->vix];
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
        spans_fill(a, c, &f);
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
