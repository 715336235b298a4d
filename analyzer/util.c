/* util.c — see util.h. */
#include "util.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "nogilrace: out of memory (allocating %zu bytes)\n", n);
    exit(2);
}

void *ngr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ngr_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *ngr_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

char *ngr_xstrdup(const char *s) { return ngr_xstrndup(s, strlen(s)); }

char *ngr_xstrndup(const char *s, size_t n)
{
    char *p = ngr_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ngr_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        oom(0);
    return s;
}

void ngr_grow(void **arr, size_t *cap, size_t need, size_t esz)
{
    if (need <= *cap)
        return;
    size_t nc = *cap ? *cap : 8;
    while (nc < need)
        nc *= 2;
    *arr = ngr_xrealloc(*arr, nc * esz);
    memset((char *)*arr + *cap * esz, 0, (nc - *cap) * esz);
    *cap = nc;
}

uint64_t ngr_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- map ------------------------------------------------------------------------------------ */

void ngr_map_free(struct ngr_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

uint32_t *ngr_map_get_maybe(const struct ngr_map *m, uint64_t key)
{
    if (!m->cap || !key)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = ngr_mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key)
            return &m->vals[i];
        if (!m->keys[i])
            return NULL;
    }
}

void ngr_map_put(struct ngr_map *m, uint64_t key, uint32_t val)
{
    if (!key)
        return;
    if ((m->n + 1) * 4 >= m->cap * 3) {
        struct ngr_map old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->keys = ngr_xcalloc(m->cap, sizeof *m->keys);
        m->vals = ngr_xcalloc(m->cap, sizeof *m->vals);
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i])
                ngr_map_put(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    size_t mask = m->cap - 1;
    for (size_t i = ngr_mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return;
        }
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->vals[i] = val;
            m->n++;
            return;
        }
    }
}

/* ---- JSON ----------------------------------------------------------------------------------- */

bool ngr_glob(const char *pattern, const char *s) { return fnmatch(pattern, s, 0) == 0; }
