/* vartab.c — the variable table: one 128-byte record per variable identity (var_id, key),
 * found through open addressing; whole-container facts per var_id; the aux table of rare
 * access detail.
 *
 * The records and their slots reach hundreds of MB on a large trace.  They live in their own
 * anonymous mappings: pages are zero until first touched (no memset of the grown half, so the
 * resident size follows the records in use, not the capacity), growth is an mremap (no copy
 * through the cache), and transparent huge pages are asked for once a table passes 4 MiB,
 * because with 4 KiB pages nearly every access of a random record is a TLB miss too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "analysis_int.h"

#define BASE_DENSE_MAX (1u << 20) /* var ids below this index an array; others a map */

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

/* Doubles the slots (kept at most 3/4 full: 8-byte slots, several probes per cache line).  A
 * slot's tag holds the top 32 bits of its hash, which is all a slot index is made of, so
 * re-inserting never reads a record. */
static void vslots_rehash(struct an *a)
{
    size_t cap = a->vslot_cap ? a->vslot_cap * 2 : 1024, bytes = 0;
    unsigned shift = a->vslot_cap ? a->vslot_shift - 1 : 64 - 10;
    if (shift < 32) {
        fprintf(stderr, "nogilrace: more than 2^31 variable identities in one trace\n");
        exit(2);
    }
    struct vslot *old = a->vslots;
    size_t old_cap = a->vslot_cap, old_bytes = a->vslot_bytes;
    struct vslot *s = big_grow(NULL, &bytes, cap * sizeof *s);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].ix1)
            continue;
        size_t j = ((uint64_t)old[i].tag << 32) >> shift;
        while (s[j].ix1)
            j = (j + 1) & (cap - 1);
        s[j] = old[i];
    }
    big_free(old, old_bytes);
    a->vslots = s;
    a->vslot_bytes = bytes;
    a->vslot_cap = cap;
    a->vslot_shift = shift;
}

static uint32_t *base_ref(struct an *a, uint32_t var_id, bool create)
{
    if (var_id < BASE_DENSE_MAX) {
        if (var_id >= a->base_dense_cap) {
            if (!create)
                return NULL;
            size_t old = a->base_dense_cap;
            NGR_GROW(a->base_dense, a->base_dense_cap, (size_t)var_id + 1);
            memset(a->base_dense + old, 0, (a->base_dense_cap - old) * sizeof *a->base_dense);
        }
        return &a->base_dense[var_id];
    }
    uint32_t *p = ngr_map_get_maybe(&a->base_map, (uint64_t)var_id + 1);
    if (!p && create) {
        ngr_map_put(&a->base_map, (uint64_t)var_id + 1, 0);
        p = ngr_map_get_maybe(&a->base_map, (uint64_t)var_id + 1);
    }
    return p;
}

uint32_t base_index_slow(const struct an *a, uint32_t var_id)
{
    uint32_t *p = base_ref((struct an *)a, var_id, false);
    return p && *p ? *p - 1 : 0;
}

/* A new record for (var_id, key), which is not in the table. */
static uint32_t var_insert(struct an *a, uint32_t var_id, uint64_t key, uint64_t h)
{
    if ((a->nvars + 1) * 4 > a->vslot_cap * 3)
        vslots_rehash(a);
    size_t mask = a->vslot_cap - 1, j = h >> a->vslot_shift;
    while (a->vslots[j].ix1)
        j = (j + 1) & mask;
    if ((a->nvars + 1) * sizeof *a->vars > a->vars_bytes)
        a->vars = big_grow(a->vars, &a->vars_bytes, (a->nvars + 1) * sizeof *a->vars);
    uint32_t ix = (uint32_t)a->nvars++;
    a->vslots[j] = (struct vslot){(uint32_t)(h >> 32), ix + 1};
    struct var *v = &a->vars[ix]; /* fresh pages are zero; a record is never reused */
    v->key = key;
    v->var_id = var_id;
    return ix;
}

/* A new identity: every variable gets its container facts with its first identity (keyed records
 * of it point there, and its (var_id, 0) record names iteration findings). */
static uint32_t var_create(struct an *a, uint32_t var_id, uint64_t key, uint64_t h)
{
    uint32_t *bref = base_ref(a, var_id, true);
    if (!*bref) {
        uint32_t whole = key ? var_insert(a, var_id, 0, var_hash(var_id, 0)) : var_insert(a, var_id, 0, h);
        NGR_GROW(a->bases, a->bases_cap, a->nbases + 1);
        memset(&a->bases[a->nbases], 0, sizeof *a->bases);
        a->bases[a->nbases].vix = whole;
        *bref = (uint32_t)++a->nbases;
        if (!key)
            return whole;
    }
    return var_insert(a, var_id, key, h);
}

/* The first slot on h's probe path that holds (var_id, key) — or, when !verify, just h's tag,
 * without reading a record; UINT32_MAX when the path ends first (then the identity is new). */
static uint32_t probe(const struct an *a, uint32_t var_id, uint64_t key, uint64_t h, bool verify)
{
    if (!a->vslot_cap)
        return UINT32_MAX;
    size_t mask = a->vslot_cap - 1;
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t j = h >> a->vslot_shift; a->vslots[j].ix1; j = (j + 1) & mask) {
        if (a->vslots[j].tag != tag)
            continue;
        uint32_t ix = a->vslots[j].ix1 - 1;
        if (!verify || (a->vars[ix].var_id == var_id && a->vars[ix].key == key))
            return ix;
    }
    return UINT32_MAX;
}

uint32_t var_guess(struct an *a, uint32_t var_id, uint64_t key, uint64_t h)
{
    uint32_t ix = probe(a, var_id, key, h, false);
    return ix != UINT32_MAX ? ix : var_create(a, var_id, key, h); /* no slot has the tag: certainly new */
}

uint32_t var_lookup(struct an *a, uint32_t var_id, uint64_t key, uint64_t h)
{
    uint32_t ix = probe(a, var_id, key, h, true);
    return ix != UINT32_MAX ? ix : var_create(a, var_id, key, h);
}

/* ---- aux: interned rare detail of an access ------------------------------------------------- */

static uint64_t aux_hash(const struct aux *x)
{
    uint64_t h = ngr_mix64((uint64_t)x->rstack << 32 | x->rlset);
    h = ngr_mix64(h ^ ((uint64_t)x->nstack << 16 | (uint64_t)x->rkind << 8 | x->ratomic));
    return h ? h : 1;
}

static bool aux_eq(const struct aux *x, const struct aux *y)
{
    return x->rstack == y->rstack && x->rlset == y->rlset && x->nstack == y->nstack && x->rkind == y->rkind &&
           x->ratomic == y->ratomic;
}

uint32_t aux_intern(struct an *a, const struct aux *x)
{
    if (!a->naux) { /* id 0 is "none" */
        NGR_GROW(a->aux, a->aux_cap, 1);
        NGR_GROW(a->aux_next, a->aux_next_cap, 1);
        memset(&a->aux[0], 0, sizeof a->aux[0]);
        a->naux = 1;
    }
    uint64_t h = aux_hash(x);
    uint32_t *first = ngr_map_get_maybe(&a->aux_map, h);
    for (uint32_t d = first ? *first : 0; d; d = a->aux_next[d])
        if (aux_eq(&a->aux[d], x))
            return d;
    NGR_GROW(a->aux, a->aux_cap, a->naux + 1);
    NGR_GROW(a->aux_next, a->aux_next_cap, a->naux + 1);
    uint32_t id = (uint32_t)a->naux++;
    a->aux[id] = *x;
    a->aux_next[id] = first ? *first : 0;
    ngr_map_put(&a->aux_map, h, id);
    return id;
}

void vartab_free(struct an *a)
{
    big_free(a->vars, a->vars_bytes);
    big_free(a->vslots, a->vslot_bytes);
    free(a->bases);
    free(a->base_dense);
    ngr_map_free(&a->base_map);
    free(a->aux);
    free(a->aux_next);
    ngr_map_free(&a->aux_map);
}
