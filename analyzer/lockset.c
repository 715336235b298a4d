/* lockset.c — interned locksets: a set of lock object ids is stored once and named by a small
 * id, so that a variable record keeps 4 bytes per lockset and "no common lock" is a merge of two
 * short sorted arrays (or an id comparison). */
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

static uint64_t lset_hash(const uint64_t *o, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = ngr_mix64(h ^ o[i]);
    return h ? h : 1;
}

uint32_t lset_intern(struct lsets *L, const uint64_t *o, size_t n)
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

bool lset_disjoint(const struct lsets *L, uint32_t a, uint32_t b)
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

uint32_t lset_of_held(struct lsets *L, const struct ngr_held *held, size_t nheld, uint64_t mark)
{
    uint64_t tmp[64];
    size_t n = 0;
    for (size_t i = 0; i < nheld && n < 64; i++)
        if (held[i].serial <= mark)
            tmp[n++] = held[i].obj;
    /* insertion sort: a thread holds a handful of locks */
    for (size_t i = 1; i < n; i++) {
        uint64_t v = tmp[i];
        size_t j = i;
        for (; j && tmp[j - 1] > v; j--)
            tmp[j] = tmp[j - 1];
        tmp[j] = v;
    }
    size_t k = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        if (tmp[i] != tmp[k - 1])
            tmp[k++] = tmp[i];
    return lset_intern(L, tmp, k);
}

void lsets_free(struct lsets *L)
{
    free(L->pool);
    free(L->defs);
    ngr_map_free(&L->by_hash);
    memset(L, 0, sizeof *L);
}
