/* gentrace.c — write a large, valid synthetic nogilrace trace for timing the analyzer.
 *
 *   gentrace [--events N] [--threads T] [--vars V] [--locks L] [--seed S] -o FILE
 *
 * The file follows common/trace_format.h: a 4096-byte header (FINISHED set, chunk_count filled),
 * NGR_CHUNK_SIZE_DEFAULT chunks, each sealed with its payload length and CRC-32C.  Stream 0 holds the metadata
 * (strings, locations, stacks, variables, keys, lock names, thread names, process facts, END);
 * streams 1..T+1 hold the threads' events.  The mix imitates a locked program at scale:
 *   - T worker threads spawned by the main thread (BEGIN/SPAWN ... END/JOIN, all with seq numbers);
 *   - each step, one thread runs a "function": acquire a lock, 2-8 accesses (reads, writes, keyed
 *     container items) to variables that lock protects, release; every 20th step instead touches
 *     the thread's own private variables without a lock; a few hundred accesses in all hit a
 *     small set of variables with no lock (real races, so the report has something to say);
 *   - a few thousand variables (globals, class attributes, containers with keys, object
 *     attributes with a parent), a few thousand keys, 64 named locks, stacks of depth 2-8.
 * N counts event records (access + sync + thread); the END record states every record written, the
 * metadata and END itself included, as the preload's writer does.
 * Built by scripts/bench; needs only common/crc32c.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "trace_format.h"

#define CHUNK NGR_CHUNK_SIZE_DEFAULT
#define PAYLOAD_MAX (CHUNK - NGR_CHUNK_HEADER_SIZE)

/* ---- chunked stream writer ------------------------------------------------------------------ */

struct stream {
    unsigned char buf[CHUNK];
    uint32_t used;        /* payload bytes in buf after the header */
    uint32_t stream_seq;
    uint64_t first_seq;
};

static FILE *g_out;
static const char *g_path;
static struct stream *g_streams; /* [0] metadata, [1..nthreads] threads */
static uint64_t g_chunks;
static uint64_t g_records; /* every record of every stream, as the END record counts them */

static void die(const char *what)
{
    fprintf(stderr, "gentrace: %s: %s: %s\n", g_path ? g_path : "", what, strerror(errno));
    exit(1);
}

static void flush_stream(uint32_t id)
{
    struct stream *s = &g_streams[id];
    struct ngr_chunk_header h = {
        .magic = NGR_CHUNK_MAGIC,
        .stream = id,
        .stream_seq = s->stream_seq++,
        .sealed_len = s->used,
        .crc32c = ngr_crc32c(0, s->buf + NGR_CHUNK_HEADER_SIZE, s->used),
        .first_seq = s->first_seq,
    };
    memcpy(s->buf, &h, sizeof h);
    if (fwrite(s->buf, CHUNK, 1, g_out) != 1)
        die("write");
    memset(s->buf, 0, NGR_CHUNK_HEADER_SIZE + s->used);
    s->used = 0;
    s->first_seq = 0;
    g_chunks++;
}

/* Append one record (words[0] is word 0); seq is its sequence number, 0 for none. */
static void emit(uint32_t id, const uint64_t *words, unsigned n, uint64_t seq)
{
    struct stream *s = &g_streams[id];
    if (s->used + 8u * n > PAYLOAD_MAX)
        flush_stream(id);
    memcpy(s->buf + NGR_CHUNK_HEADER_SIZE + s->used, words, 8u * n);
    s->used += 8u * n;
    g_records++;
    if (seq && !s->first_seq)
        s->first_seq = seq;
}

/* ---- metadata ---------------------------------------------------------------------------------- */

static uint32_t g_next_string = 1;

static uint32_t intern(const char *str)
{
    uint64_t w[64] = {0};
    size_t len = strlen(str);
    if (len > 8 * 60)
        len = 8 * 60;
    unsigned words = 2 + (unsigned)((len + 7) / 8);
    uint32_t sid = g_next_string++;
    w[0] = ngr_word0(NGR_OP_STRING, words, 0, sid);
    w[1] = len;
    memcpy(&w[2], str, len);
    emit(0, w, words, 0);
    return sid;
}

/* xorshift64*: fast, reproducible */
static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}
static uint32_t below(uint32_t n) { return (uint32_t)((rnd() >> 32) % n); }

/* ---- the simulated program ---------------------------------------------------------------------- */

enum { NLOC = 600, NSTACK = 400, NKEYS = 3000, NRACY = 12, RACY_STEPS = 200 };

struct opts {
    uint64_t events;
    uint32_t threads, vars, locks;
    uint64_t seed;
    const char *out;
};

static uint64_t g_seq, g_events;

static void thread_rec(uint32_t stream, unsigned kind, uint32_t other, uint64_t extra)
{
    uint64_t seq = ++g_seq;
    uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, kind, other), seq, extra};
    emit(stream, w, 3, seq);
    g_events++;
}

static void sync_rec(uint32_t stream, unsigned kind, uint64_t obj, uint32_t stack)
{
    uint64_t seq = ++g_seq;
    uint64_t w[4] = {ngr_word0(NGR_OP_SYNC, 4, kind, stack), seq, obj, 0};
    emit(stream, w, 4, seq);
    g_events++;
}

static void access_rec(uint32_t stream, unsigned kind, uint32_t var, uint64_t key, uint64_t frame, uint32_t stack)
{
    uint64_t w[4] = {ngr_word0(NGR_OP_ACCESS, 4, kind, var), key, frame, (uint64_t)stack};
    emit(stream, w, 4, 0);
    g_events++;
}

static uint64_t lock_obj(uint32_t l) { return 0x7f3a00001000ull + (uint64_t)l * 64; }

/* Variable layout: ids 1..shared are protected by lock (id % locks); then NRACY racy ones; then
 * private ones, owned by thread 2 + (id % threads).  Every 4th variable is a container
 * (accessed with keys), every 7th a class attribute, every 11th an object attribute. */
struct layout {
    uint32_t shared, racy_first, private_first, total;
    uint64_t racy_period; /* every racy_period-th step is a racy read-modify-write */
};

static unsigned var_kind_of(uint32_t v)
{
    if (v % 4 == 0)
        return NGR_VAR_CONTAINER;
    if (v % 7 == 0)
        return NGR_VAR_CLASS_ATTR;
    if (v % 11 == 0)
        return NGR_VAR_OBJ_ATTR;
    return NGR_VAR_GLOBAL;
}

static void write_metadata(const struct opts *o, const struct layout *ly)
{
    char name[160];
    uint64_t w[16];

    uint32_t ver = intern("3.13.5 experimental free-threading build (synthetic)");
    uint32_t cmd = intern("python3.13t app/main.py --synthetic");
    w[0] = ngr_word0(NGR_OP_PROCESS, 2, NGR_PROC_FREE_THREADED, 0);
    w[1] = ngr_pack32(ver, cmd);
    emit(0, w, 2, 0);

    /* 20 modules, 60 functions, 600 locations */
    uint32_t files[20], funcs[60];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "/srv/app/app/mod%d.py", i);
        files[i] = intern(name);
    }
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "handler_%d", i);
        funcs[i] = intern(name);
    }
    for (uint32_t loc = 1; loc <= NLOC; loc++) {
        w[0] = ngr_word0(NGR_OP_LOCATION, 3, 0, loc);
        w[1] = ngr_pack32(files[loc % 20], funcs[loc % 60]);
        w[2] = 10 + loc % 400;
        emit(0, w, 3, 0);
    }
    for (uint32_t st = 1; st <= NSTACK; st++) {
        unsigned depth = 2 + st % 7;
        uint32_t locs[8];
        for (unsigned d = 0; d < depth; d++)
            locs[d] = 1 + (st * 13 + d * 101) % NLOC;
        unsigned words = 1 + (depth * 4 + 7) / 8;
        memset(w, 0, sizeof w);
        w[0] = ngr_word0(NGR_OP_STACK, words, depth, st);
        memcpy(&w[1], locs, depth * 4);
        emit(0, w, words, 0);
    }

    /* variables: parents of object attributes are the container/global just before them */
    for (uint32_t v = 1; v <= ly->total; v++) {
        unsigned kind = var_kind_of(v);
        const char *what = v >= ly->private_first ? "local" : v >= ly->racy_first ? "racy" : "shared";
        uint32_t parent = 0;
        switch (kind) {
        case NGR_VAR_CONTAINER: snprintf(name, sizeof name, "app.mod%u.%s_cache%u", v % 20, what, v); break;
        case NGR_VAR_CLASS_ATTR: snprintf(name, sizeof name, "app.mod%u.Registry.%s%u", v % 20, what, v); break;
        case NGR_VAR_OBJ_ATTR:
            snprintf(name, sizeof name, "app.mod%u.CONFIG.%s%u", v % 20, what, v);
            parent = v > 1 ? v - 1 : 0;
            break;
        default: snprintf(name, sizeof name, "app.mod%u.%s_count%u", v % 20, what, v); break;
        }
        w[0] = ngr_word0(NGR_OP_VAR, 3, kind, v);
        w[1] = ngr_pack32(intern(name), parent);
        w[2] = 0;
        emit(0, w, 3, 0);
    }
    for (uint32_t k = 1; k <= NKEYS; k++) {
        snprintf(name, sizeof name, "'user:%u'", k);
        w[0] = ngr_word0(NGR_OP_KEY, 3, NGR_KEY_STR, 0);
        w[1] = k;
        w[2] = intern(name);
        emit(0, w, 3, 0);
    }
    for (uint32_t l = 0; l < o->locks; l++) {
        snprintf(name, sizeof name, "app.mod%u.lock%u", l % 20, l);
        w[0] = ngr_word0(NGR_OP_SYNC_OBJ, 3, NGR_SOBJ_LOCK, 0);
        w[1] = lock_obj(l);
        w[2] = intern(name);
        emit(0, w, 3, 0);
    }
    for (uint32_t t = 1; t <= o->threads + 1; t++) {
        if (t == 1)
            snprintf(name, sizeof name, "MainThread");
        else
            snprintf(name, sizeof name, "worker-%u", t - 2);
        w[0] = ngr_word0(NGR_OP_THREAD_NAME, 2, 0, t);
        w[1] = intern(name);
        emit(0, w, 2, 0);
    }
}

/* One "function activation" in thread t. */
static void step(const struct opts *o, const struct layout *ly, uint32_t t, uint64_t frame, uint64_t n)
{
    uint32_t stack = 1 + below(NSTACK);
    /* Checked before the private branch: any period that is 19 mod 20 (99999 was) would otherwise
     * never get here.  The period scales with the trace so every size gets ~RACY_STEPS of them. */
    if (n % ly->racy_period == ly->racy_period - 1) { /* a real race: read-modify-write with no lock */
        uint32_t v = ly->racy_first + below(NRACY);
        access_rec(t, NGR_ACC_READ, v, 0, frame, stack);
        access_rec(t, NGR_ACC_WRITE, v, 0, frame, stack);
        return;
    }
    if (n % 20 == 19) { /* private, unlocked */
        uint32_t count = 2 + below(4);
        uint32_t nthreads = o->threads;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t span = ly->total - ly->private_first + 1;
            uint32_t v = ly->private_first + below(span);
            v += (nthreads + (t - 2) - v % nthreads) % nthreads; /* one owned by thread t */
            if (v > ly->total)
                v -= nthreads;
            unsigned kind = i == 0 ? NGR_ACC_READ : NGR_ACC_WRITE;
            uint64_t key = var_kind_of(v) == NGR_VAR_CONTAINER ? 1 + below(NKEYS) : 0;
            access_rec(t, kind, v, key, frame, stack);
        }
        return;
    }
    uint32_t l = below(o->locks);
    sync_rec(t, NGR_SYNC_ACQUIRE, lock_obj(l), stack);
    uint32_t count = 2 + below(7);
    uint32_t per_lock = ly->shared / o->locks;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t v = l + o->locks * below(per_lock);
        if (v == 0)
            v = o->locks;
        uint32_t r = below(10);
        unsigned kind = r < 6 ? NGR_ACC_READ : r < 9 ? NGR_ACC_WRITE : NGR_ACC_CONTAINS;
        uint64_t key = 0;
        if (var_kind_of(v) == NGR_VAR_CONTAINER) {
            key = 1 + below(NKEYS);
            if (kind != NGR_ACC_READ || below(2))
                kind |= NGR_ACC_FLAG_ATOMIC;
        } else if (kind == NGR_ACC_CONTAINS) {
            kind = NGR_ACC_READ;
        }
        access_rec(t, kind, v, key, frame, 1 + (stack + i) % NSTACK);
    }
    sync_rec(t, NGR_SYNC_RELEASE, lock_obj(l), stack);
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (!strcmp(a, "--events"))
            o->events = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads"))
            o->threads = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--vars"))
            o->vars = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--locks"))
            o->locks = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "-o"))
            o->out = v;
        else
            return -1;
        i++;
    }
    if (!o->out || o->threads < 1 || o->threads > 4096 || o->locks < 1 || o->vars < 4 * o->locks + NRACY + o->threads ||
        o->vars / 4 < o->threads) /* each thread needs a private variable in the last quarter */
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.events = 50000000, .threads = 16, .vars = 4000, .locks = 64, .seed = 1};
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: gentrace [--events N] [--threads T] [--vars V] [--locks L] [--seed S] -o FILE\n"
                        "       (vars >= 4*locks + %d + threads, vars/4 >= threads)\n", NRACY);
        return 2;
    }
    g_path = o.out;
    g_rng = o.seed * 0x9e3779b97f4a7c15ull + 1;
    g_out = fopen(o.out, "wb");
    if (!g_out)
        die("open");
    g_streams = calloc(o.threads + 2, sizeof *g_streams);
    if (!g_streams)
        die("calloc");

    struct layout ly;
    ly.private_first = o.vars - o.vars / 4 + 1;    /* the last quarter is thread-private */
    ly.racy_first = ly.private_first - NRACY;
    ly.shared = ly.racy_first - 1;
    ly.total = o.vars;
    /* a step writes ~6 events on average: spread ~RACY_STEPS racy steps over the whole trace */
    ly.racy_period = o.events / 6 / RACY_STEPS;
    if (ly.racy_period < 2)
        ly.racy_period = 2;

    static unsigned char header_space[NGR_HEADER_SIZE];
    if (fwrite(header_space, sizeof header_space, 1, g_out) != 1)
        die("write");

    write_metadata(&o, &ly);

    /* main thread: begin, spawn the workers (each begins right after its spawn) */
    thread_rec(1, NGR_THR_BEGIN, 0, (uint64_t)getpid());
    for (uint32_t t = 2; t <= o.threads + 1; t++) {
        thread_rec(1, NGR_THR_SPAWN, t, 0);
        thread_rec(t, NGR_THR_BEGIN, 1, (uint64_t)getpid() + t);
    }
    uint64_t tail = 2ull * o.threads + 1; /* END and JOIN per worker, END of main */
    uint64_t *frames = calloc(o.threads + 2, sizeof *frames);
    if (!frames)
        die("calloc");
    for (uint64_t n = 0; g_events + tail < o.events; n++) {
        uint32_t t = 2 + below(o.threads);
        step(&o, &ly, t, (uint64_t)t << 40 | ++frames[t], n);
    }
    for (uint32_t t = 2; t <= o.threads + 1; t++) {
        thread_rec(t, NGR_THR_END, 0, 0);
        thread_rec(1, NGR_THR_JOIN, t, 0);
    }
    thread_rec(1, NGR_THR_END, 0, 0);

    /* Like the preload's writer, END counts every record written, itself included. */
    uint64_t end[3] = {ngr_word0(NGR_OP_END, 3, 0, 0), g_records + 1, g_seq};
    emit(0, end, 3, 0);
    for (uint32_t s = 1; s <= o.threads + 1; s++)
        if (g_streams[s].used)
            flush_stream(s);
    flush_stream(0);

    struct ngr_file_header h = {0};
    memcpy(h.magic, NGR_TRACE_MAGIC, 8);
    h.major = NGR_TRACE_MAJOR;
    h.minor = NGR_TRACE_MINOR;
    h.header_size = NGR_HEADER_SIZE;
    h.chunk_size = CHUNK;
    h.flags = NGR_HDR_FINISHED;
    h.trace_id = rnd() | 1;
    h.pid = (uint32_t)getpid();
    h.ppid = (uint32_t)getppid();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    h.chunk_count = g_chunks;
    if (fseek(g_out, 0, SEEK_SET) != 0 || fwrite(&h, sizeof h, 1, g_out) != 1 || fclose(g_out) != 0)
        die("write header");
    printf("gentrace: %s: %" PRIu64 " events, %" PRIu64 " records, %" PRIu64 " chunks, last seq %" PRIu64 "\n",
           o.out, g_events, g_records, g_chunks, g_seq);
    free(frames);
    free(g_streams);
    return 0;
}
