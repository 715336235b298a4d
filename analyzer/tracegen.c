/* tracegen.c — see tracegen.h. */
#include "tracegen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "trace_format.h"
#include "util.h"

struct tg_stream {
    uint32_t num;
    uint64_t *w;
    size_t n, cap;
    uint32_t *rec_starts; /* word index of each record */
    size_t nrec, rcap;
};

struct ngr_tg {
    uint32_t chunk_size;
    struct tg_stream *s;
    size_t ns, scap;
    uint32_t next_str, next_loc, next_stack;
    uint64_t seq, events;
};

struct ngr_tg *ngr_tg_new(uint32_t chunk_size)
{
    struct ngr_tg *g = ngr_xcalloc(1, sizeof *g);
    g->chunk_size = chunk_size ? chunk_size : NGR_CHUNK_SIZE_DEFAULT;
    g->next_str = g->next_loc = g->next_stack = 1;
    g->seq = 1;
    return g;
}

void ngr_tg_free(struct ngr_tg *g)
{
    for (size_t i = 0; i < g->ns; i++) {
        free(g->s[i].w);
        free(g->s[i].rec_starts);
    }
    free(g->s);
    free(g);
}

static struct tg_stream *stream(struct ngr_tg *g, uint32_t num)
{
    /* streams are usually made in number order, from 0 (metadata first) or 1: try there first
     * (tests with tens of thousands of threads would otherwise search all streams per record) */
    if (num < g->ns && g->s[num].num == num)
        return &g->s[num];
    if (num >= 1 && num - 1 < g->ns && g->s[num - 1].num == num)
        return &g->s[num - 1];
    for (size_t i = 0; i < g->ns; i++)
        if (g->s[i].num == num)
            return &g->s[i];
    NGR_GROW(g->s, g->scap, g->ns + 1); /* geometric: tens of thousands of threads (NGR_GROW zeroes) */
    g->s[g->ns].num = num;
    return &g->s[g->ns++];
}

void ngr_tg_raw(struct ngr_tg *g, uint32_t num, const uint64_t *w, unsigned n)
{
    struct tg_stream *s = stream(g, num);
    NGR_GROW(s->w, s->cap, s->n + n);
    NGR_GROW(s->rec_starts, s->rcap, s->nrec + 1);
    s->rec_starts[s->nrec++] = (uint32_t)s->n;
    memcpy(s->w + s->n, w, n * 8);
    s->n += n;
    g->events++;
}

uint32_t ngr_tg_string(struct ngr_tg *g, const char *str)
{
    size_t len = strlen(str);
    unsigned words = 2 + (unsigned)((len + 7) / 8);
    uint64_t *w = ngr_xcalloc(words, 8);
    uint32_t id = g->next_str++;
    w[0] = ngr_word0(NGR_OP_STRING, words, 0, id);
    w[1] = len;
    memcpy(w + 2, str, len);
    ngr_tg_raw(g, 0, w, words);
    free(w);
    return id;
}

void ngr_tg_var(struct ngr_tg *g, uint32_t var_id, unsigned kind, const char *name)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_VAR, 3, kind, var_id), ngr_tg_string(g, name), 0};
    ngr_tg_raw(g, 0, w, 3);
}

void ngr_tg_key(struct ngr_tg *g, uint64_t key_id, unsigned kind, const char *repr)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_KEY, 3, kind, 0), key_id, ngr_tg_string(g, repr)};
    ngr_tg_raw(g, 0, w, 3);
}

uint32_t ngr_tg_loc(struct ngr_tg *g, const char *file, const char *func, uint32_t line)
{
    uint32_t id = g->next_loc++;
    uint64_t w[3] = {ngr_word0(NGR_OP_LOCATION, 3, 0, id),
                     ngr_pack32(ngr_tg_string(g, file), ngr_tg_string(g, func)), line};
    ngr_tg_raw(g, 0, w, 3);
    return id;
}

uint32_t ngr_tg_stack(struct ngr_tg *g, const uint32_t *locs, unsigned depth)
{
    uint32_t id = g->next_stack++;
    unsigned words = 1 + (depth + 1) / 2;
    uint64_t *w = ngr_xcalloc(words, 8);
    w[0] = ngr_word0(NGR_OP_STACK, words, depth, id);
    memcpy(w + 1, locs, depth * 4);
    ngr_tg_raw(g, 0, w, words);
    free(w);
    return id;
}

uint32_t ngr_tg_stack1(struct ngr_tg *g, const char *file, const char *func, uint32_t line)
{
    uint32_t loc = ngr_tg_loc(g, file, func, line);
    return ngr_tg_stack(g, &loc, 1);
}

void ngr_tg_sobj(struct ngr_tg *g, uint64_t obj, unsigned kind, const char *name)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_SYNC_OBJ, 3, kind, 0), obj, ngr_tg_string(g, name)};
    ngr_tg_raw(g, 0, w, 3);
}

void ngr_tg_thread_name(struct ngr_tg *g, uint32_t thread, const char *name)
{
    uint64_t w[2] = {ngr_word0(NGR_OP_THREAD_NAME, 2, 0, thread), ngr_tg_string(g, name)};
    ngr_tg_raw(g, 0, w, 2);
}

void ngr_tg_process(struct ngr_tg *g, unsigned flags, const char *version, const char *cmdline)
{
    uint32_t v = ngr_tg_string(g, version), c = ngr_tg_string(g, cmdline);
    uint64_t w[2] = {ngr_word0(NGR_OP_PROCESS, 2, flags, 0), ngr_pack32(v, c)};
    ngr_tg_raw(g, 0, w, 2);
}

void ngr_tg_gil(struct ngr_tg *g, bool enabled, const char *module)
{
    uint64_t w[2] = {ngr_word0(NGR_OP_GIL, 2, enabled, ngr_tg_string(g, module)), g->seq++};
    ngr_tg_raw(g, 0, w, 2);
}

void ngr_tg_note(struct ngr_tg *g, unsigned kind, const char *msg)
{
    uint64_t w[2] = {ngr_word0(NGR_OP_NOTE, 2, kind, 0), ngr_tg_string(g, msg)};
    ngr_tg_raw(g, 0, w, 2);
}

void ngr_tg_access(struct ngr_tg *g, uint32_t thread, unsigned kind, uint32_t var, uint64_t key,
                   uint64_t frame, uint32_t stack)
{
    uint64_t w[4] = {ngr_word0(NGR_OP_ACCESS, 4, kind, var), key, frame, stack};
    ngr_tg_raw(g, thread, w, 4);
}

uint64_t ngr_tg_sync(struct ngr_tg *g, uint32_t thread, unsigned kind, uint64_t obj, uint32_t count,
                     uint32_t stack)
{
    uint64_t seq = g->seq++;
    uint64_t w[4] = {ngr_word0(NGR_OP_SYNC, 4, kind, stack), seq, obj, count};
    ngr_tg_raw(g, thread, w, 4);
    return seq;
}

uint64_t ngr_tg_thread(struct ngr_tg *g, uint32_t thread, unsigned kind, uint32_t other, uint64_t extra)
{
    uint64_t seq = g->seq++;
    uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, kind, other), seq, extra};
    ngr_tg_raw(g, thread, w, 3);
    return seq;
}

void ngr_tg_end(struct ngr_tg *g)
{
    uint64_t w[3] = {ngr_word0(NGR_OP_END, 3, 0, 0), g->events + 1, g->seq - 1};
    ngr_tg_raw(g, 0, w, 3);
}

void ngr_tg_build(struct ngr_tg *g, const struct ngr_tg_opts *o, unsigned char **bufp, size_t *lenp)
{
    static const struct ngr_tg_opts none = {0};
    if (!o)
        o = &none;
    size_t cs = g->chunk_size, payload = cs - NGR_CHUNK_HEADER_SIZE;
    /* count chunks */
    size_t nchunks = 0;
    for (size_t i = 0; i < g->ns; i++) {
        struct tg_stream *s = &g->s[i];
        size_t used = 0, k = 0;
        for (size_t r = 0; r < s->nrec; r++) {
            size_t words = (r + 1 < s->nrec ? s->rec_starts[r + 1] : s->n) - s->rec_starts[r];
            if (k == 0 || used + words * 8 > payload) {
                k++;
                used = 0;
            }
            used += words * 8;
        }
        nchunks += k;
    }
    size_t len = NGR_HEADER_SIZE + nchunks * cs;
    unsigned char *buf = ngr_xcalloc(len, 1);
    struct ngr_file_header *h = (struct ngr_file_header *)buf;
    memcpy(h->magic, NGR_TRACE_MAGIC, 8);
    h->major = NGR_TRACE_MAJOR;
    h->minor = NGR_TRACE_MINOR;
    h->header_size = NGR_HEADER_SIZE;
    h->chunk_size = (uint32_t)cs;
    h->flags = o->header_flags | (o->not_finished || o->unsealed ? 0 : NGR_HDR_FINISHED);
    h->trace_id = 0x1234abcd5678ef00ull ^ o->pid;
    h->pid = o->pid ? o->pid : 4242;
    h->ppid = 1;
    h->chunk_count = nchunks;
    /* lay out, streams interleaved chunk by chunk as a real writer would */
    size_t ci = 0;
    for (size_t i = 0; i < g->ns; i++) {
        struct tg_stream *s = &g->s[i];
        unsigned char *ch = NULL;
        size_t used = 0;
        uint32_t sseq = 0;
        for (size_t r = 0; r <= s->nrec; r++) {
            size_t words = r < s->nrec ? (r + 1 < s->nrec ? s->rec_starts[r + 1] : s->n) - s->rec_starts[r] : 0;
            if (ch && (r == s->nrec || used + words * 8 > payload)) {
                struct ngr_chunk_header *hh = (struct ngr_chunk_header *)ch;
                if (!o->unsealed) {
                    hh->sealed_len = (uint32_t)used;
                    hh->crc32c = ngr_crc32c(0, ch + NGR_CHUNK_HEADER_SIZE, used);
                }
                ch = NULL;
            }
            if (r == s->nrec)
                break;
            if (!ch) {
                ch = buf + NGR_HEADER_SIZE + ci++ * cs;
                struct ngr_chunk_header *hh = (struct ngr_chunk_header *)ch;
                hh->magic = NGR_CHUNK_MAGIC;
                hh->stream = s->num;
                hh->stream_seq = sseq++;
                used = 0;
            }
            memcpy(ch + NGR_CHUNK_HEADER_SIZE + used, s->w + s->rec_starts[r], words * 8);
            used += words * 8;
        }
    }
    *bufp = buf;
    *lenp = len;
}

int ngr_tg_write(struct ngr_tg *g, const struct ngr_tg_opts *o, const char *path)
{
    unsigned char *buf;
    size_t len;
    ngr_tg_build(g, o, &buf, &len);
    FILE *f = fopen(path, "wb");
    int rc = -1;
    if (f) {
        rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    free(buf);
    return rc;
}
