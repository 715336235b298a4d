/* trace.c — see trace.h.  Checks happen once, here (or, deferred, in ngr_trace_check_chunk() when the
 * replay first enters a chunk), so that the replay can trust offsets. */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "sigbus.h"

bool ngr_trace_check_crc = true;

#define HEADER_V1_SIZE 72u
#define MAX_HEADER_SIZE (1u << 20)
#define MAX_CHUNK_SIZE (1u << 30)

struct ctx {
    struct ngr_trace *t;
    char *err;
    size_t errlen;
    bool defer;          /* NGR_TRACE_DEFER_CHECKS */
    int fd;              /* the file, for SEEK_DATA; -1 for a caller's buffer */
};

static int fail(struct ctx *c, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, uint64_t off, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: byte %" PRIu64 ": %s", c->t->path, off, what);
    return -1;
}

static void warn(struct ngr_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct ngr_trace *t, const char *fmt, ...)
{
    if (t->nwarnings == NGR_MAX_WARNINGS) {
        t->warnings_dropped++;
        return;
    }
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    t->warnings[t->nwarnings++] = ngr_xasprintf("%s: %s", t->path, what);
}

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Smallest size in words a record with this opcode may have; 0 for unknown opcodes (any size). */
static unsigned min_words(unsigned op, uint64_t w0)
{
    switch (op) {
    case NGR_OP_ACCESS: case NGR_OP_SYNC: return 4;
    case NGR_OP_THREAD: case NGR_OP_VAR: case NGR_OP_KEY: case NGR_OP_LOCATION:
    case NGR_OP_SYNC_OBJ: case NGR_OP_END: return 3;
    case NGR_OP_STRING: case NGR_OP_THREAD_NAME: case NGR_OP_PROCESS: case NGR_OP_GIL:
    case NGR_OP_NOTE: return 2;
    case NGR_OP_STACK: case NGR_OP_NATIVE_STACK: return 1 + (ngr_w0_flags(w0) + 1) / 2;
    default: return 1;
    }
}

/* ---- chunk framing ---------------------------------------------------------------------------- */

/* Walks the records of [data, lim).  Sealed: they must tile it exactly.  Unsealed: stop at the
 * first zero word; a record that runs past lim is incomplete when the file was cut short
 * (`truncated`), else corrupt.  Sets *end to the end of the last complete record. */
static int frame_records(struct ctx *c, uint64_t data, uint64_t lim, bool sealed, bool truncated,
                         uint64_t *end, bool *cut)
{
    const unsigned char *b = c->t->base;
    uint64_t off = data;
    *cut = false;
    while (off + 8 <= lim) {
        uint64_t w0 = rd64(b + off);
        if ((w0 & 0xffff) == (NGR_OP_ACCESS | 4u << 8) && off + 32 <= lim) { /* most records */
            off += 32;
            continue;
        }
        if (!w0) {
            if (sealed)
                return fail(c, off, "zero word inside a sealed chunk's data");
            break;
        }
        unsigned words = ngr_w0_words(w0), op = ngr_w0_op(w0);
        if (!op || !words)
            return fail(c, off, "record with opcode %u and size %u words", op, words);
        if (off + 8ull * words > lim) {
            if (!sealed && truncated) {
                *cut = true;
                break;
            }
            return fail(c, off, "record (opcode 0x%02x, %u words) runs past the end of its chunk", op, words);
        }
        if (words < min_words(op, w0))
            return fail(c, off, "record opcode 0x%02x has %u words, needs %u", op, words, min_words(op, w0));
        off += 8ull * words;
    }
    if (off + 8 > lim && off < lim && !sealed && truncated)
        *cut = true;
    *end = off;
    return 0;
}

int ngr_trace_check_chunk(const struct ngr_trace *t, const struct ngr_chunk_ref *ch, char *err, size_t errlen)
{
    struct ctx c = {(struct ngr_trace *)t, err, errlen, false, -1}; /* fail() and framing only read t */
    uint64_t off = ch->data - NGR_CHUNK_HEADER_SIZE;
    const unsigned char *h = t->base + off;
    uint32_t stream = rd32(h + 4), sseq = rd32(h + 8), crc = rd32(h + 16);
    if (ngr_trace_check_crc && ngr_crc32c(0, t->base + ch->data, ch->data_end - ch->data) != crc)
        return fail(&c, off + 16, "CRC-32C mismatch in chunk %" PRIu64 " (stream %u, seq %u)",
                    (off - t->header_size) / t->chunk_size, stream, sseq);
    uint64_t end;
    bool cut;
    return frame_records(&c, ch->data, ch->data_end, true, false, &end, &cut);
}

static struct ngr_stream_idx *stream_get(struct ngr_trace *t, struct ngr_map *smap, uint32_t stream)
{
    uint32_t *ix = ngr_map_get_maybe(smap, (uint64_t)stream + 1);
    if (ix)
        return &t->streams[*ix];
    /* a thread-per-request server has many short streams: grow geometrically */
    NGR_GROW(t->streams, t->streams_cap, t->nstreams + 1);
    struct ngr_stream_idx *s = &t->streams[t->nstreams];
    memset(s, 0, sizeof *s);
    s->stream = stream;
    ngr_map_put(smap, (uint64_t)stream + 1, (uint32_t)t->nstreams);
    t->nstreams++;
    return s;
}

static int cmp_chunk(const void *a, const void *b)
{
    const struct ngr_chunk_ref *x = a, *y = b;
    return x->stream_seq < y->stream_seq ? -1 : x->stream_seq > y->stream_seq;
}
static int cmp_stream(const void *a, const void *b)
{
    const struct ngr_stream_idx *x = a, *y = b;
    return x->stream < y->stream ? -1 : x->stream > y->stream;
}

/* Hands the whole pages of [off, off + len) back (a read-only file mapping: dropping pages costs
 * a re-read from the page cache, never data).  The open pass does it for everything it has
 * scanned, the replay and the analysis for chunks read before they are needed or already
 * consumed: the resident size stays with the analysis state instead of growing with the trace. */
static void drop_pages(const struct ngr_trace *t, uint64_t off, uint64_t len)
{
    /* A page repaired after the file shrank (sigbus.h) is anonymous: dropped, it would come back
     * as zeros, which no walk over records expects.  The trace is abandoned anyway. */
    if (t->watched && ngr_sigbus_hit(t->base))
        return;
    uint64_t start = (off + 4095) & ~(uint64_t)4095, end = (off + len) & ~(uint64_t)4095;
    if (start < end)
        madvise((void *)(t->base + start), end - start, MADV_DONTNEED);
}

/* The kernel maps up to this much of cached pages around a fault (fault_around_bytes). */
#define FAULT_AROUND (64u << 10)

static void drop_slot(const struct ngr_trace *t, uint64_t slot)
{
    uint64_t off = t->header_size + slot * t->chunk_size;
    if (off < t->size)
        drop_pages(t, off, t->size - off < t->chunk_size ? t->size - off : t->chunk_size);
}

/* A chunk read after its neighbour in the file was handed back maps some of the neighbour's pages
 * again (fault-around), and nothing would hand them back a second time: a thread that ends in a
 * chunk whose successor in the file is read later left a page behind each time.  So handing a
 * chunk back also hands back its neighbours within the fault-around reach that were handed back
 * before (released[] remembers them, one bit per chunk of the file). */
void ngr_trace_release_chunk(const struct ngr_trace *t, const struct ngr_chunk_ref *ch)
{
    uint64_t off = ch->data - NGR_CHUNK_HEADER_SIZE;
    if (!t->mapped || off >= t->size)
        return;
    uint64_t slot = (off - t->header_size) / t->chunk_size;
    drop_slot(t, slot);
    if (!t->released)
        return;
    t->released[slot / 64] |= 1ull << (slot % 64);
    uint64_t reach = (FAULT_AROUND + t->chunk_size - 1) / t->chunk_size;
    for (uint64_t d = 1; d <= reach; d++) {
        if (slot >= d && (t->released[(slot - d) / 64] >> ((slot - d) % 64) & 1))
            drop_slot(t, slot - d);
        if (slot + d < t->nslots && (t->released[(slot + d) / 64] >> ((slot + d) % 64) & 1))
            drop_slot(t, slot + d);
    }
}

/* The data extents of the file (SEEK_DATA / SEEK_HOLE), so that the chunk scan reads only what
 * the file holds: a 16 GiB sparse file with a valid header and nothing else costs a few system
 * calls, not 262,144 page reads.  A chunk whose header lies wholly in a hole reads as zeros,
 * "never handed out", so skipping it changes nothing but the time. */
struct extents {
    int fd;              /* -1: no holes known (a buffer, or a filesystem without SEEK_DATA) */
    uint64_t start, end; /* the data extent found last */
    bool no_more;        /* no data at or after end */
};

/* The first offset >= off that holds data (size when none does). */
static uint64_t next_data(struct extents *e, uint64_t off, uint64_t size)
{
    if (e->fd < 0 || (off >= e->start && off < e->end))
        return off;
    if (e->no_more && off >= e->end)
        return size;
    off_t d = lseek(e->fd, (off_t)off, SEEK_DATA);
    if (d < 0) {
        if (errno != ENXIO) { /* not supported here: read everything */
            e->fd = -1;
            return off;
        }
        e->no_more = true;
        e->start = e->end = off;
        return size;
    }
    off_t h = lseek(e->fd, d, SEEK_HOLE);
    e->start = (uint64_t)d;
    e->end = h < d ? size : (uint64_t)h;
    return (uint64_t)d;
}

#define SWEEP_BATCH (4u << 20)
#define SWEEP_LAG (1u << 20) /* more than any fault-around window */

static int index_chunks(struct ctx *c)
{
    struct ngr_trace *t = c->t;
    struct ngr_map smap = {0};
    uint64_t unsealed = 0, truncated_chunks = 0;
    uint64_t nslots = (t->size - t->header_size + t->chunk_size - 1) / t->chunk_size;
    struct extents ex = {c->fd, 0, 0, false};
    uint64_t hole_slots = 0, swept = t->header_size;
    for (uint64_t i = 0; i < nslots; i++) {
        uint64_t off = t->header_size + i * t->chunk_size;
        /* Hand back what the scan has passed, a few MiB at a time, SWEEP_LAG behind it.  Not chunk
         * by chunk as it goes: reading a chunk's header also maps the cached pages around it (the
         * kernel's fault-around, 64 KiB by default), so the last page of the chunk before, just
         * handed back, came back with every header read and stayed: 1/16 of the trace resident.
         * Whatever is needed again (the metadata) comes back from the page cache. */
        if (t->mapped && off >= swept + SWEEP_BATCH + SWEEP_LAG) {
            drop_pages(t, swept, off - SWEEP_LAG - swept);
            swept = off - SWEEP_LAG;
        }
        uint64_t d = next_data(&ex, off, t->size);
        if (d >= off + NGR_CHUNK_HEADER_SIZE) { /* this header is in a hole: go to the next data */
            uint64_t j = d >= t->size ? nslots : (d - t->header_size) / t->chunk_size;
            if (j < nslots && d - (t->header_size + j * t->chunk_size) >= NGR_CHUNK_HEADER_SIZE)
                j++; /* d is past that slot's header too */
            hole_slots += j - i;
            i = j - 1;
            continue;
        }
        if (t->watched && (i & 255) == 255 && ngr_sigbus_hit(t->base))
            break; /* the file shrank: open gives up on it */
        uint64_t avail = t->size - off < t->chunk_size ? t->size - off : t->chunk_size;
        bool truncated = avail < t->chunk_size;
        if (avail < NGR_CHUNK_HEADER_SIZE) {
            for (uint64_t b = 0; b < avail; b++)
                if (t->base[off + b]) {
                    truncated_chunks++;
                    break;
                }
            continue;
        }
        const unsigned char *h = t->base + off;
        uint32_t magic = rd32(h), stream = rd32(h + 4), sseq = rd32(h + 8), slen = rd32(h + 12);
        uint32_t crc = rd32(h + 16);
        if (magic == 0)
            continue; /* never handed out (or handed out at the instant the process died) */
        if (magic != NGR_CHUNK_MAGIC) {
            ngr_map_free(&smap);
            return fail(c, off, "bad chunk magic 0x%08x (chunk %" PRIu64 ")", magic, i);
        }
        uint64_t data = off + NGR_CHUNK_HEADER_SIZE, lim = off + avail;
        bool sealed = slen != 0;
        if (sealed) {
            if (slen > t->chunk_size - NGR_CHUNK_HEADER_SIZE || slen % 8) {
                ngr_map_free(&smap);
                return fail(c, off + 12, "sealed length %u does not fit chunk %" PRIu64, slen, i);
            }
            if (data + slen > lim) {
                sealed = false; /* cut short by truncation: read what is there */
            } else if (c->defer && stream != 0) {
                /* checked when the replay reaches it: the pages are read once, not twice */
                struct ngr_stream_idx *s = stream_get(t, &smap, stream);
                NGR_GROW(s->chunks, s->cap, s->nchunks + 1);
                s->chunks[s->nchunks++] = (struct ngr_chunk_ref){data, data + slen, sseq, true};
                if (data + slen > t->read_upto)
                    t->read_upto = data + slen;
                continue;
            } else {
                if (ngr_trace_check_crc && ngr_crc32c(0, t->base + data, slen) != crc) {
                    ngr_map_free(&smap);
                    return fail(c, off + 16, "CRC-32C mismatch in chunk %" PRIu64 " (stream %u, seq %u)", i, stream, sseq);
                }
                lim = data + slen;
            }
        }
        lim = data + ((lim - data) & ~(uint64_t)7);
        uint64_t end = data;
        bool cut = false;
        if (frame_records(c, data, lim, sealed, truncated, &end, &cut)) {
            ngr_map_free(&smap);
            return -1;
        }
        if (cut || (truncated && !sealed && end > data))
            truncated_chunks++;
        else if (!sealed && end > data)
            unsealed++;
        if (end > t->read_upto)
            t->read_upto = end;
        if (end == data && !sealed)
            continue; /* nothing in it */
        struct ngr_stream_idx *s = stream_get(t, &smap, stream);
        NGR_GROW(s->chunks, s->cap, s->nchunks + 1);
        s->chunks[s->nchunks++] = (struct ngr_chunk_ref){data, end, sseq, false};
    }
    ngr_map_free(&smap);
    if (t->mapped) {
        drop_pages(t, swept, t->size - swept);
        t->nslots = nslots;
        t->released = ngr_xcalloc((nslots + 63) / 64, sizeof *t->released);
    }
    if (t->nstreams)
        qsort(t->streams, t->nstreams, sizeof *t->streams, cmp_stream);
    for (size_t k = 0; k < t->nstreams; k++) {
        struct ngr_stream_idx *s = &t->streams[k];
        qsort(s->chunks, s->nchunks, sizeof *s->chunks, cmp_chunk);
        for (size_t j = 1; j < s->nchunks; j++) {
            if (s->chunks[j].stream_seq == s->chunks[j - 1].stream_seq)
                return fail(c, s->chunks[j].data - NGR_CHUNK_HEADER_SIZE,
                            "stream %u has two chunks with stream_seq %u", s->stream, s->chunks[j].stream_seq);
        }
        if (s->nchunks && s->chunks[s->nchunks - 1].stream_seq + 1 != s->nchunks)
            warn(t, "stream %u: %zu chunk(s) missing (stream_seq up to %u): events lost", s->stream,
                 (size_t)s->chunks[s->nchunks - 1].stream_seq + 1 - s->nchunks, s->chunks[s->nchunks - 1].stream_seq);
        if (s->stream == 0)
            t->meta = s;
    }
    if ((t->size - t->header_size) % t->chunk_size)
        truncated_chunks++; /* cut inside the zero tail of the last chunk: still a cut file */
    if (truncated_chunks)
        warn(t, "trace truncated at byte %zu (not a whole number of chunks); read up to the last complete record", t->size);
    /* A real trace has at most the chunk being handed out when the process died in a hole. */
    if (hole_slots > 1)
        warn(t, "sparse file: %" PRIu64 " of its %" PRIu64 " chunks were never written (holes, %" PRIu64
                " MiB): skipped", hole_slots, nslots, hole_slots * t->chunk_size >> 20);
    /* One warning per file for a crash or SIGKILL: unsealed chunks, or no clean end recorded. */
    if (unsealed || !(t->hdr.flags & NGR_HDR_FINISHED)) {
        t->incomplete = true;
        warn(t, "trace incomplete (process did not finish); read up to byte %" PRIu64, t->read_upto);
    }
    if (t->hdr.flags & NGR_HDR_DISABLED)
        warn(t, "tracing stopped early (see the trace's notes): events are missing");
    return 0;
}

/* ---- metadata ------------------------------------------------------------------------------- */

#define TABLE_ADD(t, map, arr, n, cap, id, value)                                                  \
    do {                                                                                           \
        uint32_t *ix_ = ngr_map_get_maybe(&(t)->map, (id));                                        \
        if (ix_) {                                                                                 \
            (t)->arr[*ix_] = (value);                                                              \
        } else {                                                                                   \
            NGR_GROW((t)->arr, (t)->cap, (t)->n + 1);                                              \
            (t)->arr[(t)->n] = (value);                                                            \
            ngr_map_put(&(t)->map, (id), (uint32_t)(t)->n);                                        \
            (t)->n++;                                                                              \
        }                                                                                          \
    } while (0)

static int load_metadata(struct ctx *c)
{
    struct ngr_trace *t = c->t;
    if (!t->meta)
        return 0;
    for (size_t k = 0; k < t->meta->nchunks; k++) {
        const struct ngr_chunk_ref *ch = &t->meta->chunks[k];
        for (uint64_t off = ch->data; off < ch->data_end;) {
            const unsigned char *r = t->base + off;
            uint64_t w0 = rd64(r);
            unsigned words = ngr_w0_words(w0), op = ngr_w0_op(w0), fl = ngr_w0_flags(w0);
            uint32_t arg = ngr_w0_arg(w0);
            uint64_t w1 = words > 1 ? rd64(r + 8) : 0, w2 = words > 2 ? rd64(r + 16) : 0;
            t->meta_records++;
            switch (op) {
            case NGR_OP_STRING: {
                uint32_t len = (uint32_t)w1;
                if (2ull + (len + 7ull) / 8 > words)
                    return fail(c, off, "string %u of %u bytes does not fit its %u-word record", arg, len, words);
                struct ngr_str s = {(const char *)r + 16, len};
                TABLE_ADD(t, str_map, strs, nstrs, strs_cap, arg, s);
                break;
            }
            case NGR_OP_VAR: {
                struct ngr_var v = {(uint32_t)w1, (uint32_t)(w1 >> 32), fl};
                TABLE_ADD(t, var_map, vars, nvars, vars_cap, arg, v);
                break;
            }
            case NGR_OP_KEY: {
                struct ngr_key kk = {(uint32_t)w2, fl};
                TABLE_ADD(t, key_map, keys, nkeys, keys_cap, w1, kk);
                break;
            }
            case NGR_OP_LOCATION: {
                struct ngr_loc l = {(uint32_t)w1, (uint32_t)(w1 >> 32), (uint32_t)w2};
                TABLE_ADD(t, loc_map, locs, nlocs, locs_cap, arg, l);
                break;
            }
            case NGR_OP_STACK: case NGR_OP_NATIVE_STACK: {
                /* framing already checked that depth ids fit */
                struct ngr_stack s = {r + 8, fl};
                if (op == NGR_OP_STACK)
                    TABLE_ADD(t, stack_map, stacks, nstacks, stacks_cap, arg, s);
                else
                    TABLE_ADD(t, nstack_map, stacks, nstacks, stacks_cap, (uint64_t)arg, s);
                break;
            }
            case NGR_OP_SYNC_OBJ: {
                struct ngr_sobj o = {(uint32_t)w2, fl};
                TABLE_ADD(t, sobj_map, sobjs, nsobjs, sobjs_cap, w1, o);
                break;
            }
            case NGR_OP_THREAD_NAME:
                TABLE_ADD(t, tname_map, tnames, ntnames, tnames_cap, (uint64_t)arg + 1, (uint32_t)w1);
                break;
            case NGR_OP_PROCESS:
                t->have_process = true;
                t->process_flags = fl;
                t->version_str = (uint32_t)w1;
                t->cmdline_str = (uint32_t)(w1 >> 32);
                break;
            case NGR_OP_END:
                t->have_end = true;
                t->end_records = w1;
                t->end_last_seq = w2;
                break;
            default:
                break; /* GIL, NOTE: read by the dump in order; unknown opcodes skipped */
            }
            off += 8ull * words;
        }
    }
    return 0;
}

/* ---- open / close ------------------------------------------------------------------------------ */

/* A process killed between creating its trace and writing the header leaves nothing or zeros
 * where the header goes: the writer stores the magic last, after the rest of the header. */
static bool header_never_written(const unsigned char *b, size_t size)
{
    size_t n = size < NGR_HEADER_SIZE ? size : NGR_HEADER_SIZE;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* "FILE: byte OFF: the file shrank ..." once a page of the mapping was found past its end; OFF is
 * the first byte found missing. */
static int shrank(struct ctx *c)
{
    uint64_t off = ngr_sigbus_first_fault(c->t->base);
    struct stat st;
    if (stat(c->t->path, &st) == 0)
        return fail(c, off, "the file shrank to %lld bytes while it was being read (it had %zu): "
                            "truncated by another process?", (long long)st.st_size, c->t->size);
    return fail(c, off, "the file shrank while it was being read (it had %zu bytes): %s", c->t->size,
                strerror(errno));
}

int ngr_trace_check_shrunk(const struct ngr_trace *t, char *err, size_t errlen)
{
    if (!t->watched || !ngr_sigbus_hit(t->base))
        return 0;
    struct ctx c = {(struct ngr_trace *)t, err, errlen, false, -1};
    return shrank(&c);
}

static int open_buf(struct ngr_trace *t, const char *name, const void *buf, size_t size, bool mapped,
                    int fd, unsigned flags, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->mapped = mapped;
    t->path = ngr_xstrdup(name);
    t->base = buf;
    t->size = size;
    if (mapped)
        t->watched = ngr_sigbus_watch(buf, size);
    struct ctx c = {t, err, errlen, (flags & NGR_TRACE_DEFER_CHECKS) != 0, fd};
    if (header_never_written(buf, size)) {
        t->no_header = true;
        return fail(&c, 0, "%s: no trace header (the process died at start, before writing it); no events",
                    size ? "only zeros" : "empty file");
    }
    int rc = 0;
    if (size < 8 || memcmp(buf, NGR_TRACE_MAGIC, 8) != 0) {
        rc = fail(&c, 0, "not a nogilrace trace (bad magic)");
    } else if (size < HEADER_V1_SIZE) {
        rc = fail(&c, size, "truncated inside the file header");
    } else {
        memcpy(&t->hdr, buf, sizeof t->hdr);
        t->header_size = t->hdr.header_size;
        t->chunk_size = t->hdr.chunk_size;
        if (t->hdr.major != NGR_TRACE_MAJOR)
            rc = fail(&c, 8, "trace format version %u.%u, this nogilrace reads %u.x", t->hdr.major,
                      t->hdr.minor, NGR_TRACE_MAJOR);
        else if (t->header_size < HEADER_V1_SIZE || t->header_size > MAX_HEADER_SIZE || t->header_size % 8)
            rc = fail(&c, 12, "bad header size %u", t->hdr.header_size);
        else if (t->chunk_size < 4096 || t->chunk_size > MAX_CHUNK_SIZE || t->chunk_size % 4096)
            rc = fail(&c, 16, "bad chunk size %u", t->hdr.chunk_size);
        else if (size < t->header_size) {
            t->incomplete = true;
            warn(t, "trace truncated at byte %zu, inside the file header; no events", size);
        } else if (index_chunks(&c) || load_metadata(&c))
            rc = -1;
    }
    /* Whatever went wrong after the file shrank was caused by it: say so instead. */
    if (t->watched && ngr_sigbus_hit(t->base))
        return shrank(&c);
    return rc;
}

int ngr_trace_open_mem_ex(struct ngr_trace *t, const char *name, const void *buf, size_t size, unsigned flags,
                          char *err, size_t errlen)
{
    return open_buf(t, name, buf, size, false, -1, flags, err, errlen);
}

int ngr_trace_open_mem(struct ngr_trace *t, const char *name, const void *buf, size_t size,
                       char *err, size_t errlen)
{
    return open_buf(t, name, buf, size, false, -1, 0, err, errlen);
}

int ngr_trace_open(struct ngr_trace *t, const char *path, char *err, size_t errlen)
{
    return ngr_trace_open_ex(t, path, 0, err, errlen);
}

static const char *file_type(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int ngr_trace_open_ex(struct ngr_trace *t, const char *path, unsigned flags, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer forever; anything but a
     * regular file is refused below before a byte is read. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s, not a trace file", path, file_type(st.st_mode));
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    void *p = NULL;
    if (size) {
        p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        madvise(p, size, MADV_SEQUENTIAL);
    }
    int rc = open_buf(t, path, p ? p : "", size, size != 0, fd, flags, err, errlen); /* close unmaps */
    close(fd);
    return rc;
}

void ngr_trace_close(struct ngr_trace *t)
{
    if (t->watched)
        ngr_sigbus_unwatch(t->base);
    if (t->mapped)
        munmap((void *)t->base, t->size);
    for (size_t i = 0; i < t->nstreams; i++)
        free(t->streams[i].chunks);
    free(t->streams);
    struct ngr_map *maps[] = {&t->str_map, &t->var_map, &t->key_map, &t->loc_map, &t->stack_map,
                              &t->nstack_map, &t->sobj_map, &t->tname_map};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
        ngr_map_free(maps[i]);
    free(t->strs); free(t->vars); free(t->keys); free(t->locs); free(t->stacks); free(t->sobjs);
    free(t->tnames);
    free(t->released);
    for (size_t i = 0; i < t->nwarnings; i++)
        free(t->warnings[i]);
    free(t->path);
    memset(t, 0, sizeof *t);
}

/* ---- lookups ------------------------------------------------------------------------------------ */

#define LOOKUP(t, map, arr, id) \
    do { \
        uint32_t *ix_ = ngr_map_get_maybe(&(t)->map, (id)); \
        return ix_ ? &(t)->arr[*ix_] : NULL; \
    } while (0)

const struct ngr_str *ngr_trace_str_maybe(const struct ngr_trace *t, uint32_t id) { LOOKUP(t, str_map, strs, id); }
const struct ngr_var *ngr_trace_var_maybe(const struct ngr_trace *t, uint32_t id) { LOOKUP(t, var_map, vars, id); }
const struct ngr_key *ngr_trace_key_maybe(const struct ngr_trace *t, uint64_t id) { LOOKUP(t, key_map, keys, id); }
const struct ngr_loc *ngr_trace_loc_maybe(const struct ngr_trace *t, uint32_t id) { LOOKUP(t, loc_map, locs, id); }
const struct ngr_stack *ngr_trace_stack_maybe(const struct ngr_trace *t, uint32_t id) { LOOKUP(t, stack_map, stacks, id); }
const struct ngr_stack *ngr_trace_nstack_maybe(const struct ngr_trace *t, uint32_t id) { LOOKUP(t, nstack_map, stacks, id); }
const struct ngr_sobj *ngr_trace_sobj_maybe(const struct ngr_trace *t, uint64_t obj) { LOOKUP(t, sobj_map, sobjs, obj); }

char *ngr_trace_strdup(const struct ngr_trace *t, uint32_t id)
{
    const struct ngr_str *s = ngr_trace_str_maybe(t, id);
    return s ? ngr_xstrndup(s->p, s->len) : ngr_xstrdup("");
}

char *ngr_trace_var_name(const struct ngr_trace *t, uint32_t var_id)
{
    const struct ngr_var *v = ngr_trace_var_maybe(t, var_id);
    const struct ngr_str *s = v ? ngr_trace_str_maybe(t, v->name) : NULL;
    if (!s || !s->len)
        return ngr_xasprintf("<var %u>", var_id);
    return ngr_xstrndup(s->p, s->len);
}

char *ngr_trace_key_repr(const struct ngr_trace *t, uint64_t key_id)
{
    if (!key_id)
        return NULL;
    const struct ngr_key *k = ngr_trace_key_maybe(t, key_id);
    const struct ngr_str *s = k ? ngr_trace_str_maybe(t, k->repr) : NULL;
    if (!s)
        return ngr_xasprintf("<key 0x%" PRIx64 ">", key_id);
    return ngr_xstrndup(s->p, s->len);
}

char *ngr_trace_obj_name(const struct ngr_trace *t, uint64_t obj)
{
    const struct ngr_sobj *o = ngr_trace_sobj_maybe(t, obj);
    const struct ngr_str *s = o ? ngr_trace_str_maybe(t, o->name) : NULL;
    if (!s || !s->len)
        return ngr_xasprintf("<%s 0x%" PRIx64 ">", o ? ngr_sobj_kind_name(o->kind) : "object", obj);
    return ngr_xstrndup(s->p, s->len);
}

char *ngr_trace_thread_name(const struct ngr_trace *t, uint32_t thread)
{
    uint32_t *ix = ngr_map_get_maybe(&t->tname_map, (uint64_t)thread + 1);
    const struct ngr_str *s = ix ? ngr_trace_str_maybe(t, t->tnames[*ix]) : NULL;
    if (!s)
        return thread == 1 ? ngr_xstrdup("MainThread") : ngr_xasprintf("thread-%u", thread);
    return ngr_xstrndup(s->p, s->len);
}

static const char *name_of(const char *const *names, size_t n, unsigned k)
{
    return k < n && names[k] ? names[k] : "other";
}
#define NAME_OF(names, k) name_of(names, sizeof names / sizeof *names, k)

const char *ngr_var_kind_name(unsigned k)
{
    static const char *const n[] = {NULL, "global", "class_attr", "container", "obj_attr", "iterator",
                                    "closure"};
    return NAME_OF(n, k);
}
const char *ngr_sobj_kind_name(unsigned k)
{
    static const char *const n[] = {NULL, "lock", "rlock", "condition", "semaphore", "queue", "event",
                                    "barrier", "future", "pthread_mutex", "pthread_rwlock",
                                    "pthread_sem", "pthread_cond", "other"};
    return NAME_OF(n, k);
}
const char *ngr_access_kind_name(unsigned k)
{
    static const char *const n[] = {NULL, "read", "write", "delete", "iter_begin", "iter_end", "clear", "contains"};
    return NAME_OF(n, k);
}
const char *ngr_sync_kind_name(unsigned k)
{
    static const char *const n[] = {NULL, "acquire", "release", "rd_acquire", "rd_release",
                                    "release_all", "acquire_all", "send", "recv", "free"};
    return NAME_OF(n, k);
}
const char *ngr_thread_kind_name(unsigned k)
{
    static const char *const n[] = {NULL, "spawn", "begin", "end", "join", "detach", "fork"};
    return NAME_OF(n, k);
}
