/* util.h — small helpers shared by the analyzer: allocation that never returns NULL, a growable
 * array, an open-addressing map from 64-bit ids to 32-bit indexes, and JSON string output.
 *
 * The analyzer reads untrusted traces but allocates only in proportion to what the trace declares
 * (variables, stacks, threads, locks), never per event; running out of memory is fatal with a
 * clear message rather than a crash. */
#ifndef NGR_AN_UTIL_H
#define NGR_AN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json_writer.h"

void *ngr_xmalloc(size_t n);
void *ngr_xcalloc(size_t n, size_t size);
void *ngr_xrealloc(void *p, size_t n);
char *ngr_xstrdup(const char *s);
char *ngr_xstrndup(const char *s, size_t n);
/* printf into a fresh heap string. */
char *ngr_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *arr (element size esz) so that index `need - 1` is valid; *cap is updated. */
void ngr_grow(void **arr, size_t *cap, size_t need, size_t esz);
#define NGR_GROW(arr, cap, need) ngr_grow((void **)&(arr), &(cap), (need), sizeof *(arr))

/* 64-bit mixer (splitmix64 finaliser): cheap, good enough for ids. */
static inline uint64_t ngr_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* FNV-1a over bytes, continuing from h (start with NGR_FNV_INIT). */
#define NGR_FNV_INIT 0xcbf29ce484222325ull
uint64_t ngr_fnv1a(uint64_t h, const void *p, size_t n);

/* Map from a non-zero 64-bit key to a 32-bit value.  Key 0 is never stored. */
struct ngr_map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n; /* cap is a power of two, or 0 */
};
void ngr_map_free(struct ngr_map *m);
/* Pointer to the value of key, or NULL. */
uint32_t *ngr_map_get_maybe(const struct ngr_map *m, uint64_t key);
/* Sets key's value (insert or replace).  key must be non-zero. */
void ngr_map_put(struct ngr_map *m, uint64_t key, uint32_t val);

/* Writes s (len bytes, any content) as a JSON string literal, quotes included.  Invalid UTF-8
 * bytes become U+FFFD, so the output is always valid JSON.  One escaper serves dump and report:
 * json_writer.c's. */
static inline void ngr_json_str(FILE *f, const char *s, size_t len) { ngr_json_escape(f, s, len); }
static inline void ngr_json_cstr(FILE *f, const char *s) { ngr_json_str(f, s, s ? __builtin_strlen(s) : 0); }

/* Glob match (fnmatch without flags: '*' matches '/' too). */
bool ngr_glob(const char *pattern, const char *s);

#endif
