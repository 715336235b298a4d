/* test_preload_writer.c — the trace writer: records round-trip, sealing and CRC, chunk rollover,
 * string interning, and a trace read back without a clean end (the SIGKILL case). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload_fixture.h"

/* ---- round-trip ----------------------------------------------------------------------------- */

struct collect {
    uint64_t w[64][4];
    unsigned n;
};

static void collect(const uint64_t *w, void *ctx)
{
    struct collect *c = ctx;
    if (c->n < 64)
        memcpy(c->w[c->n], w, sizeof(uint64_t) * (ngr_w0_words(w[0]) < 4 ? ngr_w0_words(w[0]) : 4));
    c->n++;
}

Test(writer, records_round_trip, .init = start, .fini = stop)
{
    struct stat st;
    cr_assert_eq(stat(ngr_g.path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "trace mode %o", st.st_mode & 0777);
    ngr_emit_access(NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, 7, 0x1234, 99, 5);
    ngr_emit_sync(NGR_SYNC_ACQUIRE, 0xabc, 0, 3);
    ngr_emit_sync(NGR_SYNC_RELEASE, 0xabc, 0, 3);
    ngr_trace_finish(0);

    struct file f = slurp(ngr_g.path);
    const struct ngr_file_header *h = hdr_of(&f);
    cr_assert_eq(memcmp(h->magic, NGR_TRACE_MAGIC, 8), 0);
    cr_assert_eq(h->major, NGR_TRACE_MAJOR);
    cr_assert_eq(h->header_size, NGR_HEADER_SIZE);
    cr_assert(h->flags & NGR_HDR_FINISHED);
    cr_assert_eq(h->pid, (uint32_t)getpid());
    cr_assert_neq(h->trace_id, 0);
    cr_assert_eq(h->chunk_count, 2); /* metadata + thread 1 */

    struct collect c = {0};
    unsigned sealed;
    cr_assert_eq(walk_stream(&f, 1, collect, &c, &sealed), 1);
    cr_assert_eq(sealed, 1);
    cr_assert_eq(c.n, 5); /* BEGIN, access, acquire, release, END */
    cr_assert_eq(ngr_w0_op(c.w[0][0]), NGR_OP_THREAD);
    cr_assert_eq(ngr_w0_flags(c.w[0][0]), NGR_THR_BEGIN);
    cr_assert_eq(ngr_w0_op(c.w[1][0]), NGR_OP_ACCESS);
    cr_assert_eq(ngr_w0_words(c.w[1][0]), 4);
    cr_assert_eq(ngr_w0_flags(c.w[1][0]), NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC);
    cr_assert_eq(ngr_w0_arg(c.w[1][0]), 7);
    cr_assert_eq(c.w[1][1], 0x1234);
    cr_assert_eq(c.w[1][2], 99);
    cr_assert_eq(c.w[1][3], 5);
    cr_assert_eq(ngr_w0_op(c.w[2][0]), NGR_OP_SYNC);
    cr_assert_eq(ngr_w0_flags(c.w[2][0]), NGR_SYNC_ACQUIRE);
    cr_assert_eq(c.w[2][2], 0xabc);
    /* sequence numbers increase across sync/thread records */
    cr_assert_lt(c.w[0][1], c.w[2][1]);
    cr_assert_lt(c.w[2][1], c.w[3][1]);
    cr_assert_lt(c.w[3][1], c.w[4][1]);
    cr_assert_eq(ngr_w0_flags(c.w[4][0]), NGR_THR_END);

    struct collect m = {0};
    walk_stream(&f, 0, collect, &m, NULL);
    cr_assert_geq(m.n, 1);
    const uint64_t *end = m.w[m.n - 1];
    cr_assert_eq(ngr_w0_op(end[0]), NGR_OP_END, "END is the last metadata record");
    cr_assert_eq(end[2], c.w[4][1], "END carries the last sequence number");
    free(f.data);
}

/* ---- rollover ------------------------------------------------------------------------------- */

struct seqcheck {
    uint64_t next_key;
    unsigned accesses;
};

static void check_order(const uint64_t *w, void *ctx)
{
    struct seqcheck *s = ctx;
    if (ngr_w0_op(w[0]) != NGR_OP_ACCESS)
        return;
    cr_assert_eq(w[1], s->next_key, "access %u out of order", s->accesses);
    s->next_key++;
    s->accesses++;
}

Test(writer, chunk_rollover_keeps_every_record_in_order, .init = start, .fini = stop)
{
    const unsigned N = 100000; /* 3.2 MB of accesses: 13 chunks of 256 KiB */
    for (unsigned i = 0; i < N; i++)
        ngr_emit_access(NGR_ACC_READ, 1, i, 0, 0);
    ngr_trace_finish(0);
    struct file f = slurp(ngr_g.path);
    struct seqcheck s = {0};
    unsigned sealed;
    unsigned chunks = walk_stream(&f, 1, check_order, &s, &sealed);
    cr_assert_eq(s.accesses, N);
    cr_assert_geq(chunks, 13);
    cr_assert_eq(sealed, chunks, "every chunk sealed at a clean end");
    free(f.data);
}

Test(writer, corrupted_sealed_chunk_fails_crc, .init = start, .fini = stop)
{
    ngr_emit_access(NGR_ACC_READ, 1, 42, 0, 0);
    ngr_trace_finish(0);
    struct file f = slurp(ngr_g.path);
    const struct ngr_file_header *h = hdr_of(&f);
    for (size_t i = 0; i < (f.len - h->header_size) / h->chunk_size; i++) {
        struct ngr_chunk_header *ch = (void *)(f.data + h->header_size + i * h->chunk_size);
        cr_assert_neq(ch->sealed_len, 0);
        unsigned char *payload = (unsigned char *)ch + NGR_CHUNK_HEADER_SIZE;
        cr_assert_eq(ngr_crc32c(0, payload, ch->sealed_len), ch->crc32c);
        payload[8] ^= 1;
        cr_assert_neq(ngr_crc32c(0, payload, ch->sealed_len), ch->crc32c);
    }
    free(f.data);
}

/* ---- no clean end: what a SIGKILL leaves ---------------------------------------------------- */

Test(writer, unfinished_trace_reads_up_to_last_record, .init = start, .fini = stop)
{
    for (unsigned i = 0; i < 10000; i++)
        ngr_emit_access(NGR_ACC_READ, 1, i, 0, 0);
    /* no ngr_trace_finish: read the file as another process would after a kill */
    struct file f = slurp(ngr_g.path);
    const struct ngr_file_header *h = hdr_of(&f);
    cr_assert_eq(h->flags & NGR_HDR_FINISHED, 0);
    cr_assert_eq(h->chunk_count, 0);
    struct seqcheck s = {0};
    unsigned sealed;
    unsigned chunks = walk_stream(&f, 1, check_order, &s, &sealed);
    cr_assert_eq(s.accesses, 10000);
    cr_assert_eq(sealed, chunks - 1, "only the current chunk is unsealed");
    free(f.data);
}

/* ---- strings -------------------------------------------------------------------------------- */

struct strfind {
    uint32_t id;
    char text[256];
    unsigned count;
};

static void find_string(const uint64_t *w, void *ctx)
{
    struct strfind *s = ctx;
    if (ngr_w0_op(w[0]) != NGR_OP_STRING)
        return;
    size_t len = (size_t)(w[1] & 0xffffffff);
    cr_assert_eq(ngr_w0_words(w[0]), 2 + (len + 7) / 8);
    if (ngr_w0_arg(w[0]) == s->id) {
        cr_assert_lt(len, sizeof s->text);
        memcpy(s->text, &w[2], len);
        s->text[len] = 0;
        s->count++;
    }
}

Test(writer, strings_are_interned_once, .init = start, .fini = stop)
{
    uint32_t a = ngr_intern_string("app.counter", 11);
    uint32_t b = ngr_intern_string("app.lock", 8);
    uint32_t a2 = ngr_intern_string("app.counter", 11);
    uint32_t e = ngr_intern_string("", 0);
    cr_assert_neq(a, 0);
    cr_assert_neq(b, 0);
    cr_assert_neq(a, b);
    cr_assert_eq(a, a2);
    cr_assert_neq(e, 0);
    cr_assert_neq(e, a);
    /* many distinct strings: the table grows, ids stay distinct and stable */
    uint32_t ids[3000];
    char buf[32];
    for (int i = 0; i < 3000; i++)
        ids[i] = ngr_intern_string(buf, (size_t)snprintf(buf, sizeof buf, "s%d", i));
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(buf, sizeof buf, "s%d", i);
        cr_assert_eq(ngr_intern_string(buf, (size_t)n), ids[i]);
    }
    cr_assert_eq(ngr_intern_string("app.counter", 11), a);
    ngr_trace_finish(0);
    struct file f = slurp(ngr_g.path);
    struct strfind s = {.id = a};
    walk_stream(&f, 0, find_string, &s, NULL);
    cr_assert_eq(s.count, 1, "one STRING record per distinct string");
    cr_assert_str_eq(s.text, "app.counter");
    free(f.data);
}

Test(writer, metadata_records, .init = start, .fini = stop)
{
    uint32_t name = ngr_intern_string("app.lock", 8);
    ngr_define_sync_obj(0x5555, NGR_SOBJ_LOCK, name);
    uint32_t locs[3] = {ngr_new_location_id(), ngr_new_location_id(), ngr_new_location_id()};
    cr_assert(locs[0] && locs[1] != locs[0]);
    uint32_t st = ngr_new_stack_id();
    ngr_define_stack(st, locs, 3);
    ngr_trace_finish(0);
    struct file f = slurp(ngr_g.path);
    struct collect m = {0};
    walk_stream(&f, 0, collect, &m, NULL);
    bool saw_obj = false, saw_stack = false;
    for (unsigned i = 0; i < m.n && i < 64; i++) {
        const uint64_t *w = m.w[i];
        if (ngr_w0_op(w[0]) == NGR_OP_SYNC_OBJ) {
            saw_obj = true;
            cr_assert_eq(w[1], 0x5555);
            cr_assert_eq((uint32_t)w[2], name);
            cr_assert_eq(ngr_w0_flags(w[0]), NGR_SOBJ_LOCK);
        }
        if (ngr_w0_op(w[0]) == NGR_OP_STACK) {
            saw_stack = true;
            cr_assert_eq(ngr_w0_words(w[0]), 3); /* 1 + ceil(3 ids * 4 bytes / 8) */
            cr_assert_eq(ngr_w0_flags(w[0]), 3);
            cr_assert_eq((uint32_t)w[1], locs[0]);
            cr_assert_eq((uint32_t)(w[1] >> 32), locs[1]);
            cr_assert_eq((uint32_t)w[2], locs[2]);
        }
    }
    cr_assert(saw_obj && saw_stack);
    free(f.data);
}

/* ---- tracing stops (disk full, descriptor gone) ---------------------------------------------- */

struct last_words {
    uint64_t last_op;
    unsigned notes, records;
    uint32_t note_str;
    bool note_is_warning;
};

static void last_words(const uint64_t *w, void *ctx)
{
    struct last_words *l = ctx;
    l->last_op = ngr_w0_op(w[0]);
    l->records++;
    if (ngr_w0_op(w[0]) == NGR_OP_NOTE) {
        l->notes++;
        l->note_str = (uint32_t)w[1];
        l->note_is_warning = ngr_w0_flags(w[0]) == NGR_NOTE_WARNING;
    }
}

/* The metadata chunk is full to its normal end when tracing stops: the stop's warning NOTE (with
 * its message) and END still go into that chunk, in the room kept for them, and no chunk is added. */
Test(writer, a_stop_is_noted_in_a_full_metadata_chunk, .init = start, .fini = stop)
{
    struct ngr_stream *m = &ngr_g.streams[0];
    ngr_define_thread_name(1, 0);
    cr_assert(m->base);
    unsigned char *first = m->base;
    while (m->pos + 2 <= m->end)
        ngr_define_thread_name(1, 0);
    cr_assert_eq(m->base, first, "filled within the first metadata chunk");
    uint64_t chunks = atomic_load(&ngr_g.next_chunk);
    ngr_trace_disable(ENOSPC, "cannot extend trace file");
    ngr_define_thread_name(1, 0); /* dropped: tracing stopped */
    ngr_trace_finish(0);
    cr_assert_eq(atomic_load(&ngr_g.next_chunk), chunks, "no chunk taken after the stop");
    struct file f = slurp(ngr_g.path);
    cr_assert(hdr_of(&f)->flags & NGR_HDR_DISABLED);
    cr_assert(hdr_of(&f)->flags & NGR_HDR_FINISHED);
    struct last_words l = {0};
    cr_assert_eq(walk_stream(&f, 0, last_words, &l, NULL), 1);
    cr_assert_eq(l.notes, 1);
    cr_assert(l.note_is_warning);
    cr_assert_eq(l.last_op, NGR_OP_END, "END is the last record");
    struct strfind sf = {.id = l.note_str};
    walk_stream(&f, 0, find_string, &sf, NULL);
    cr_assert_eq(sf.count, 1);
    cr_assert_str_eq(sf.text, "cannot extend trace file: No space left on device; tracing stopped "
                              "here, the program continued");
    free(f.data);
}

Test(writer, never_overwrites, .init = start, .fini = stop)
{
    /* A second trace with the same id in the same directory must not replace the first. */
    uint64_t id = ngr_g.hdr->trace_id;
    char first[sizeof ngr_g.path];
    memcpy(first, ngr_g.path, sizeof first);
    struct ngr_trace_params p = {.dir = dir, .trace_id = id};
    cr_assert_eq(ngr_trace_open(&p), EEXIST);
    memcpy(ngr_g.path, first, sizeof first);
}

/* ---- many threads at once ------------------------------------------------------------------- */

#define WRITERS 8
#define PER_WRITER 30000u

static void *writer_thread(void *arg)
{
    uintptr_t me = (uintptr_t)arg;
    char name[32];
    for (unsigned i = 0; i < PER_WRITER; i++) {
        /* key = writer << 32 | i: the reader checks order and completeness per stream */
        ngr_emit_access(NGR_ACC_WRITE, (uint32_t)me + 1, (uint64_t)me << 32 | i, 0, 0);
        if (i % 1000 == 0) {
            int n = snprintf(name, sizeof name, "shared-%u", i / 1000);
            cr_assert_neq(ngr_intern_string(name, (size_t)n), 0);
        }
    }
    return NULL;
}

struct per_stream {
    uint64_t writer, next;
    unsigned count, begins;
};

static void check_stream(const uint64_t *w, void *ctx)
{
    struct per_stream *p = ctx;
    if (ngr_w0_op(w[0]) == NGR_OP_THREAD && ngr_w0_flags(w[0]) == NGR_THR_BEGIN)
        p->begins++;
    if (ngr_w0_op(w[0]) != NGR_OP_ACCESS)
        return;
    if (p->count == 0)
        p->writer = w[1] >> 32;
    cr_assert_eq(w[1] >> 32, p->writer, "one writer per stream");
    cr_assert_eq(w[1] & 0xffffffff, p->next, "in order, none missing");
    p->next++;
    p->count++;
}

Test(writer, concurrent_threads_get_their_own_streams, .init = start, .fini = stop)
{
    pthread_t t[WRITERS];
    for (uintptr_t i = 0; i < WRITERS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, writer_thread, (void *)i), 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    /* the same strings interned by everyone: one id each */
    uint32_t a = ngr_intern_string("shared-3", 8), b = ngr_intern_string("shared-3", 8);
    cr_assert_eq(a, b);
    ngr_trace_finish(0);
    struct file f = slurp(ngr_g.path);
    bool seen[WRITERS] = {false};
    unsigned streams = 0;
    for (uint32_t s = 2; s < 2 + WRITERS; s++) {
        struct per_stream p = {0};
        cr_assert_geq(walk_stream(&f, s, check_stream, &p, NULL), 1, "stream %u", s);
        cr_assert_eq(p.count, PER_WRITER, "stream %u has %u accesses", s, p.count);
        cr_assert_eq(p.begins, 1, "a thread seen first at its first event gets one BEGIN");
        cr_assert_lt(p.writer, WRITERS);
        cr_assert_not(seen[p.writer]);
        seen[p.writer] = true;
        streams++;
    }
    cr_assert_eq(streams, WRITERS);
    free(f.data);
}
