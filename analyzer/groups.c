/* groups.c — see groups.h. */
#include "groups.h"

#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "util.h"

static char *dup_maybe(const char *s)
{
    return s ? ngr_xstrdup(s) : NULL;
}

void ngr_access_copy(struct ngr_access_info *dst, const struct ngr_access_info *src)
{
    *dst = *src;
    dst->op = dup_maybe(src->op);
    dst->thread_name = dup_maybe(src->thread_name);
    dst->locks = src->nlocks ? ngr_xcalloc(src->nlocks, sizeof *dst->locks) : NULL;
    for (size_t i = 0; i < src->nlocks; i++)
        dst->locks[i] = dup_maybe(src->locks[i]);
    dst->stack = src->depth ? ngr_xcalloc(src->depth, sizeof *dst->stack) : NULL;
    for (size_t i = 0; i < src->depth; i++) {
        dst->stack[i].file = dup_maybe(src->stack[i].file);
        dst->stack[i].line = src->stack[i].line;
        dst->stack[i].function = dup_maybe(src->stack[i].function);
    }
    dst->native_stack = src->nnative ? ngr_xcalloc(src->nnative, sizeof *dst->native_stack) : NULL;
    for (size_t i = 0; i < src->nnative; i++)
        dst->native_stack[i] = dup_maybe(src->native_stack[i]);
    dst->test = dup_maybe(src->test);
    dst->phase = dup_maybe(src->phase);
}

const struct ngr_site_pair *ngr_group_pair(const struct ngr_finding *f, size_t i, struct ngr_site_pair *tmp)
{
    if (f->npairs)
        return &f->pairs[i];
    memset(tmp, 0, sizeof *tmp);
    memcpy(tmp->id, f->id, sizeof tmp->id);
    tmp->observed = f->observed;
    tmp->count = f->count;
    tmp->variable = f->variable;
    tmp->key = f->key;
    tmp->access[0] = f->access[0];
    tmp->access[1] = f->access[1];
    tmp->message = f->message;
    return tmp;
}

/* A finding made without pairs becomes its own single pair (copies: the finding keeps its own). */
static void own_pair(struct ngr_finding *f)
{
    if (f->npairs)
        return;
    struct ngr_site_pair *p = f->pairs = ngr_xcalloc(1, sizeof *f->pairs);
    f->npairs = 1;
    memcpy(p->id, f->id, sizeof p->id);
    p->observed = f->observed;
    p->count = f->count;
    p->variable = dup_maybe(f->variable);
    p->key = dup_maybe(f->key);
    ngr_access_copy(&p->access[0], &f->access[0]);
    ngr_access_copy(&p->access[1], &f->access[1]);
    p->message = dup_maybe(f->message);
}

static uint64_t pair_hash(const char *id)
{
    return ngr_fnv1a(NGR_FNV_INIT, id, strlen(id)) | 1;
}

void ngr_group_absorb(struct ngr_finding *g, struct ngr_finding *f)
{
    own_pair(g);
    own_pair(f);
    /* by id: a group can hold thousands of pairs (generated code), so no search per pair */
    struct ngr_map ix = {0};
    for (size_t i = 0; i < g->npairs; i++)
        ngr_map_put(&ix, pair_hash(g->pairs[i].id), (uint32_t)i);
    for (size_t j = 0; j < f->npairs; j++) {
        struct ngr_site_pair *p = &f->pairs[j];
        uint64_t h = pair_hash(p->id);
        uint32_t *at = ngr_map_get_maybe(&ix, h);
        if (at && strcmp(g->pairs[*at].id, p->id) == 0) {
            struct ngr_site_pair *q = &g->pairs[*at];
            uint64_t count = q->count + p->count;
            if (p->observed && !q->observed) { /* keep the instance that was seen unordered */
                ngr_site_pair_free(q);
                *q = *p;
            } else {
                ngr_site_pair_free(p);
            }
            q->count = count;
            continue;
        }
        g->pairs = ngr_xrealloc(g->pairs, (g->npairs + 1) * sizeof *g->pairs);
        g->pairs[g->npairs] = *p;
        if (!at) /* a hash shared by two ids (never seen): the first keeps the slot */
            ngr_map_put(&ix, h, (uint32_t)g->npairs);
        g->npairs++;
    }
    ngr_map_free(&ix);
    free(f->pairs);
    f->pairs = NULL;
    f->npairs = 0;
    g->objects += f->objects;
    g->keys += f->keys;
    for (size_t j = 0; j < f->nkey_examples; j++) {
        char *k = f->key_examples[j];
        bool have = false;
        for (size_t i = 0; i < g->nkey_examples && !have; i++)
            have = strcmp(g->key_examples[i], k) == 0;
        if (have || g->nkey_examples >= NGR_MAX_KEY_EXAMPLES) {
            free(k);
            continue;
        }
        if (!g->key_examples)
            g->key_examples = ngr_xcalloc(NGR_MAX_KEY_EXAMPLES, sizeof *g->key_examples);
        g->key_examples[g->nkey_examples++] = k;
    }
    free(f->key_examples);
    f->key_examples = NULL;
    f->nkey_examples = 0;
    ngr_finding_free(f);
    ngr_group_settle(g);
}

/* Innermost frames in source order, so that pairs seen equally often read top to bottom. */
static int cmp_site(const struct ngr_access_info *x, const struct ngr_access_info *y)
{
    if (!x->depth || !y->depth)
        return (int)!x->depth - (int)!y->depth;
    const struct ngr_frame *a = &x->stack[0], *b = &y->stack[0];
    int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return strcmp(a->function ? a->function : "", b->function ? b->function : "");
}

static int cmp_pair(const void *a, const void *b)
{
    const struct ngr_site_pair *x = a, *y = b;
    if (x->observed != y->observed)
        return x->observed ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = cmp_site(&x->access[0], &y->access[0]);
    if (!c)
        c = cmp_site(&x->access[1], &y->access[1]);
    return c ? c : strcmp(x->id, y->id);
}

void ngr_group_settle(struct ngr_finding *g)
{
    if (!g->npairs)
        return;
    qsort(g->pairs, g->npairs, sizeof *g->pairs, cmp_pair);
    uint64_t count = 0;
    for (size_t i = 0; i < g->npairs; i++)
        count += g->pairs[i].count;
    const struct ngr_site_pair *r = &g->pairs[0];
    g->count = count;
    g->observed = r->observed;
    g->severity = r->observed ? NGR_SEV_ERROR : NGR_SEV_WARNING;
    free(g->variable);
    free(g->key);
    free(g->message);
    g->variable = dup_maybe(r->variable);
    g->key = dup_maybe(r->key);
    g->message = dup_maybe(r->message);
    for (int a = 0; a < 2; a++) {
        ngr_access_info_free(&g->access[a]);
        ngr_access_copy(&g->access[a], &r->access[a]);
    }
}
