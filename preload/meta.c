/* meta.c — the metadata stream (stream 0): interned strings and the ngr_define_* records.
 *
 * Metadata is written rarely (first sight of a variable, lock, code location) by any thread, so
 * it shares one stream under a spinlock of our own: a pthread mutex would go through our own
 * hooks and could be held across fork.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static _Atomic int meta_lock;

void ngr_meta_lock(void)
{
    for (unsigned i = 0;; i++) {
        if (!atomic_exchange_explicit(&meta_lock, 1, memory_order_acquire))
            return;
        if (i > 64)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
}

bool ngr_meta_trylock(void)
{
    return !atomic_exchange_explicit(&meta_lock, 1, memory_order_acquire);
}

void ngr_meta_unlock(void)
{
    if (NGR_UNLIKELY(ngr_trace_note_stop_pending()))
        ngr_trace_note_stop_locked(); /* tracing stopped meanwhile: say why while we hold it */
    atomic_store_explicit(&meta_lock, 0, memory_order_release);
}

bool ngr_meta_write_locked(const uint64_t *w, unsigned n)
{
    ngr_g.streams[0].num = 0;
    return ngr_stream_write(&ngr_g.streams[0], w, n, 0);
}

/* Write one metadata record from a public entry point: tracing on, re-entrancy and errno kept. */
static void meta_emit(const uint64_t *w, unsigned n)
{
    if (!ngr_on() || ngr_t.depth)
        return;
    int saved = errno;
    ngr_t.depth++;
    ngr_meta_lock();
    ngr_meta_write_locked(w, n);
    ngr_meta_unlock();
    ngr_t.depth--;
    errno = saved;
}

/* ---- ids ------------------------------------------------------------------------------------ */

static _Atomic uint32_t next_var = 1, next_loc = 1, next_stack = 1, next_str = 1;

uint32_t ngr_new_var_id(void) { return atomic_fetch_add(&next_var, 1); }
uint32_t ngr_new_location_id(void) { return atomic_fetch_add(&next_loc, 1); }
uint32_t ngr_new_stack_id(void) { return atomic_fetch_add(&next_stack, 1); }

/* ---- string interning ---------------------------------------------------------------------- */

/* Open addressing over (hash, id, bytes); the bytes live in malloc'd blocks that are never freed
 * (strings are few: names of variables, files, functions, locks). */
struct istr {
    uint64_t hash;
    uint32_t id, len;
    char *bytes;
};
static struct istr *itab;
static size_t icap, icount;

/* Longest string a STRING record holds: 255 words minus the two header words. */
#define NGR_MAX_STRING (253u * 8u)

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ? h : 1;
}

static bool itab_grow(void)
{
    size_t ncap = icap ? icap * 2 : 1024;
    struct istr *n = calloc(ncap, sizeof *n);
    if (!n)
        return false;
    for (size_t i = 0; i < icap; i++) {
        if (!itab[i].hash)
            continue;
        size_t j = itab[i].hash & (ncap - 1);
        while (n[j].hash)
            j = (j + 1) & (ncap - 1);
        n[j] = itab[i];
    }
    free(itab);
    itab = n;
    icap = ncap;
    return true;
}

void ngr_meta_reset(void)
{
    ngr_meta_lock();
    for (size_t i = 0; i < icap; i++)
        free(itab[i].bytes);
    free(itab);
    itab = NULL;
    icap = icount = 0;
    atomic_store(&next_var, 1);
    atomic_store(&next_loc, 1);
    atomic_store(&next_stack, 1);
    atomic_store(&next_str, 1);
    ngr_meta_unlock();
}

/* Caller holds the metadata lock. */
uint32_t ngr_intern_locked(const char *s, size_t len)
{
    if (len > NGR_MAX_STRING)
        len = NGR_MAX_STRING; /* documented: long strings are cut */
    uint64_t h = hash_bytes(s, len);
    if ((icount + 1) * 2 > icap && !itab_grow())
        return 0;
    size_t j = h & (icap - 1);
    while (itab[j].hash) {
        if (itab[j].hash == h && itab[j].len == len && memcmp(itab[j].bytes, s, len) == 0)
            return itab[j].id;
        j = (j + 1) & (icap - 1);
    }
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    memcpy(copy, s, len);
    uint32_t id = atomic_fetch_add(&next_str, 1);
    /* The record: header words, then the bytes zero-padded to a word. */
    unsigned words = 2 + (unsigned)((len + 7) / 8);
    uint64_t w[255];
    w[0] = ngr_word0(NGR_OP_STRING, words, 0, id);
    w[1] = len;
    w[words - 1] = 0;
    memcpy(&w[2], s, len);
    if (!ngr_meta_write_locked(w, words)) {
        free(copy);
        return 0;
    }
    itab[j] = (struct istr){.hash = h, .id = id, .len = (uint32_t)len, .bytes = copy};
    icount++;
    return id;
}

uint32_t ngr_intern_string(const char *s, size_t len)
{
    if (!ngr_on() || ngr_t.depth || (!s && len))
        return 0;
    int saved = errno;
    ngr_t.depth++;
    ngr_meta_lock();
    uint32_t id = ngr_intern_locked(s ? s : "", len);
    ngr_meta_unlock();
    ngr_t.depth--;
    errno = saved;
    return id;
}

/* A NOTE and its message, written into the room kept at the end of the metadata chunk (tracing
 * has stopped: no new chunk, whatever the state).  The string is not interned (no allocation: this
 * may run in a signal handler's unlock).  Caller holds the metadata lock. */
bool ngr_meta_note_final_locked(unsigned note_kind, const char *msg)
{
    size_t len = strlen(msg);
    if (len > NGR_NOTE_FINAL_MAX)
        len = NGR_NOTE_FINAL_MAX;
    uint32_t id = atomic_fetch_add(&next_str, 1);
    unsigned words = 2 + (unsigned)((len + 7) / 8);
    uint64_t w[2 + (NGR_NOTE_FINAL_MAX + 7) / 8];
    w[0] = ngr_word0(NGR_OP_STRING, words, 0, id);
    w[1] = len;
    w[words - 1] = 0;
    memcpy(&w[2], msg, len);
    uint64_t note[2] = {ngr_word0(NGR_OP_NOTE, 2, note_kind, 0), id};
    struct ngr_stream *m = &ngr_g.streams[0];
    return ngr_stream_write_final(m, w, words) && ngr_stream_write_final(m, note, 2);
}

/* ---- definitions ---------------------------------------------------------------------------- */

void ngr_define_var(uint32_t var_id, unsigned var_kind, uint32_t name_str, uint32_t parent_var)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_VAR, 3, var_kind, var_id), ngr_pack32(name_str, parent_var), 0};
    meta_emit(w, 3);
}

void ngr_define_key(uint64_t key_id, unsigned key_kind, uint32_t repr_str)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_KEY, 3, key_kind, 0), key_id, repr_str};
    meta_emit(w, 3);
}

void ngr_define_location(uint32_t loc_id, uint32_t file_str, uint32_t func_str, uint32_t line)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_LOCATION, 3, 0, loc_id), ngr_pack32(file_str, func_str), line};
    meta_emit(w, 3);
}

static void define_ids(unsigned op, uint32_t id, const uint32_t *ids, unsigned depth)
{
    if (depth > 2 * 254)
        depth = 2 * 254; /* a record holds at most 254 words of ids */
    unsigned words = 1 + (depth + 1) / 2;
    uint64_t w[255];
    memset(w, 0, sizeof(uint64_t) * words);
    w[0] = ngr_word0(op, words, depth, id);
    memcpy(&w[1], ids, depth * sizeof(uint32_t));
    meta_emit(w, words);
}

void ngr_define_stack(uint32_t stack_id, const uint32_t *loc_ids, unsigned depth)
{
    define_ids(NGR_OP_STACK, stack_id, loc_ids, depth);
}

void ngr_define_sync_obj(uint64_t obj_id, unsigned sobj_kind, uint32_t name_str)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_SYNC_OBJ, 3, sobj_kind, 0), obj_id, name_str};
    meta_emit(w, 3);
}

void ngr_define_thread_name(uint32_t thread_num, uint32_t name_str)
{
    uint64_t w[2] = {ngr_word0(NGR_OP_THREAD_NAME, 2, 0, thread_num), name_str};
    meta_emit(w, 2);
}

void ngr_define_process(unsigned process_flags, uint32_t version_str, uint32_t cmdline_str)
{
    uint64_t w[2] = {ngr_word0(NGR_OP_PROCESS, 2, process_flags, 0),
                     ngr_pack32(version_str, cmdline_str)};
    meta_emit(w, 2);
}

void ngr_note_gil(bool enabled, uint32_t module_str)
{
    uint64_t w[2] = {ngr_word0(NGR_OP_GIL, 2, enabled ? 1 : 0, module_str), ngr_next_seq()};
    meta_emit(w, 2);
}

void ngr_note(unsigned note_kind, const char *msg)
{
    uint32_t id = ngr_intern_string(msg, strlen(msg));
    uint64_t w[2] = {ngr_word0(NGR_OP_NOTE, 2, note_kind, 0), id};
    meta_emit(w, 2);
}
