/* test_reader.c — the trace reader and the replay: valid traces built with tracegen, merge order,
 * lockset replay, and every class of bad input (bad magic, wrong major, CRC, truncation). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "crc32c.h"
#include "replay.h"
#include "trace.h"
#include "tracegen.h"

static struct ngr_trace T;
static unsigned char *BUF;
static size_t LEN;
static char ERR[512];

static int open_built(struct ngr_tg *g, const struct ngr_tg_opts *o)
{
    ngr_tg_build(g, o, &BUF, &LEN);
    return ngr_trace_open_mem(&T, "t.ngrtrace", BUF, LEN, ERR, sizeof ERR);
}

static void teardown(void)
{
    ngr_trace_close(&T);
    free(BUF);
    BUF = NULL;
}

TestSuite(reader, .fini = teardown);

/* Two threads whose sync records interleave by seq: the replay follows seq across streams and
 * keeps accesses before their thread's next sync record. */
Test(reader, merges_streams_by_seq)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_var(g, 1, NGR_VAR_GLOBAL, "app.x");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);   /* seq 1 */
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);   /* seq 2 */
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);   /* seq 3 */
    ngr_tg_access(g, 2, NGR_ACC_WRITE, 1, 0, 7, 0);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);     /* seq 4 */
    ngr_tg_access(g, 1, NGR_ACC_READ, 1, 0, 9, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);    /* seq 5 */
    ngr_tg_end(g);
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    struct ngr_replay r;
    ngr_replay_init(&r, &T);
    struct ngr_event ev;
    unsigned want_op[] = {NGR_OP_THREAD, NGR_OP_THREAD, NGR_OP_THREAD, NGR_OP_ACCESS, NGR_OP_THREAD, NGR_OP_ACCESS, NGR_OP_THREAD};
    unsigned want_thr[] = {1, 1, 2, 2, 2, 1, 1};
    size_t n = 0;
    while (ngr_replay_next(&r, &ev)) {
        cr_assert_lt(n, 7);
        cr_expect_eq(ev.op, want_op[n], "event %zu op %u", n, ev.op);
        cr_expect_eq(r.threads[ev.tix].num, want_thr[n], "event %zu thread", n);
        n++;
    }
    cr_assert_eq(n, 7);
    cr_assert_eq(r.events, 7);
    cr_assert(T.have_end);
    ngr_replay_free(&r);
}

/* A thread with nothing after its END is done as soon as END is replayed, not when the replay
 * ends: the analysis hands a done thread's chunks back, and a run of thousands of short threads
 * would otherwise keep every chunk of the file resident to the end. */
Test(reader, thread_done_at_its_end)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_var(g, 1, NGR_VAR_GLOBAL, "app.x");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, 1, 0, 7, 0);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    for (int i = 0; i < 20; i++) { /* main goes on long after */
        ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x100, 0, 0);
        ngr_tg_access(g, 1, NGR_ACC_WRITE, 1, 0, 9, 0);
        ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, 0x100, 0, 0);
    }
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    ngr_tg_end(g);
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    struct ngr_replay r;
    ngr_replay_init(&r, &T);
    int ix2 = ngr_replay_thread_index(&r, 2);
    cr_assert_geq(ix2, 0);
    struct ngr_event ev;
    size_t after_end = 0, done_after_end = 0;
    bool ended = false;
    while (ngr_replay_next(&r, &ev)) {
        if (ended) {
            after_end++;
            done_after_end += r.threads[ix2].done && r.threads[ix2].chunk >= r.threads[ix2].s->nchunks;
        }
        if (ev.op == NGR_OP_THREAD && ev.kind == NGR_THR_END && r.threads[ev.tix].num == 2)
            ended = true;
    }
    cr_assert(ended);
    cr_expect_gt(after_end, 40);
    cr_expect_eq(done_after_end, after_end, "thread 2 done during %zu of the %zu events after its END",
                 done_after_end, after_end);
    ngr_replay_free(&r);
}

static size_t held_depth(const struct ngr_thread *th, uint64_t obj)
{
    for (size_t i = 0; i < th->nheld; i++)
        if (th->held[i].obj == obj)
            return th->held[i].depth;
    return 0;
}

/* Runs the replay to the end and returns thread num's state (replay left in *r). */
static const struct ngr_thread *replay_all(struct ngr_replay *r, uint32_t num)
{
    ngr_replay_init(r, &T);
    struct ngr_event ev;
    while (ngr_replay_next(r, &ev))
        ;
    int ix = ngr_replay_thread_index(r, num);
    cr_assert_geq(ix, 0);
    return &r->threads[ix];
}

Test(reader, lockset_rlock_depth_and_release_all)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x10, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x10, 0, 0); /* RLock re-entered */
    ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, 0x10, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x20, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_RELEASE_ALL, 0x20, 1, 0); /* Condition.wait */
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE_ALL, 0x20, 3, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_RD_ACQUIRE, 0x30, 0, 0);
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    struct ngr_replay r;
    const struct ngr_thread *th = replay_all(&r, 1);
    cr_expect_eq(held_depth(th, 0x10), 1);
    cr_expect_eq(held_depth(th, 0x20), 3);
    cr_expect_eq(held_depth(th, 0x30), 1);
    cr_expect_eq(th->nheld, 3);
    ngr_replay_free(&r);
}

Test(reader, lock_released_by_other_thread_leaves_acquirer)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x10, 0, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, 0x10, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x11, 0, 0);
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    struct ngr_replay r;
    const struct ngr_thread *th = replay_all(&r, 1);
    cr_expect_eq(held_depth(th, 0x10), 0);
    cr_expect_eq(held_depth(th, 0x11), 1);
    ngr_replay_free(&r);
}

Test(reader, many_chunks_in_stream_order)
{
    struct ngr_tg *g = ngr_tg_new(4096); /* 127 access records per chunk */
    for (uint32_t i = 0; i < 1000; i++)
        ngr_tg_access(g, 1, NGR_ACC_READ, 1, i + 1, 0, 0);
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    cr_assert_eq(T.nwarnings, 0);
    struct ngr_replay r;
    ngr_replay_init(&r, &T);
    struct ngr_event ev;
    uint64_t want = 1;
    while (ngr_replay_next(&r, &ev))
        cr_assert_eq(ev.key_id, want++);
    cr_assert_eq(want, 1001);
    ngr_replay_free(&r);
}

Test(reader, metadata_names)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_var(g, 3, NGR_VAR_CONTAINER, "app.cache");
    ngr_tg_key(g, 99, NGR_KEY_STR, "'user:1'");
    ngr_tg_sobj(g, 0x10, NGR_SOBJ_LOCK, "app.lock");
    ngr_tg_thread_name(g, 2, "first");
    ngr_tg_thread_name(g, 2, "worker-2"); /* the last one wins */
    uint32_t st = ngr_tg_stack1(g, "app.py", "f", 12);
    ngr_tg_access(g, 2, NGR_ACC_READ, 3, 99, 1, st);
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    char *s;
    cr_expect_str_eq((s = ngr_trace_var_name(&T, 3)), "app.cache"); free(s);
    cr_expect_str_eq((s = ngr_trace_key_repr(&T, 99)), "'user:1'"); free(s);
    cr_expect_str_eq((s = ngr_trace_obj_name(&T, 0x10)), "app.lock"); free(s);
    cr_expect_str_eq((s = ngr_trace_thread_name(&T, 2)), "worker-2"); free(s);
    cr_expect_str_eq((s = ngr_trace_var_name(&T, 4)), "<var 4>"); free(s);
    const struct ngr_stack *sk = ngr_trace_stack_maybe(&T, st);
    cr_assert_not_null(sk);
    cr_assert_eq(sk->depth, 1);
    const struct ngr_loc *l = ngr_trace_loc_maybe(&T, ngr_stack_at(sk, 0));
    cr_assert_not_null(l);
    cr_expect_eq(l->line, 12);
}

/* ---- bad input -------------------------------------------------------------------------------- */

static struct ngr_tg *small_trace(void)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_var(g, 1, NGR_VAR_GLOBAL, "app.x");
    for (uint32_t i = 0; i < 300; i++)
        ngr_tg_access(g, 1, NGR_ACC_WRITE, 1, 0, 0, 0);
    ngr_tg_end(g);
    return g;
}

Test(reader, bad_magic)
{
    cr_assert_eq(ngr_trace_open_mem(&T, "x", "hello world, not a trace", 24, ERR, sizeof ERR), -1);
    cr_expect(strstr(ERR, "x: byte 0: not a nogilrace trace"), "%s", ERR);
}

Test(reader, empty)
{
    cr_assert_eq(ngr_trace_open_mem(&T, "x", "", 0, ERR, sizeof ERR), -1);
    cr_expect(strstr(ERR, "empty"), "%s", ERR);
}

Test(reader, wrong_major)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    ((struct ngr_file_header *)BUF)->major = 2;
    ((struct ngr_file_header *)BUF)->minor = 0; /* whatever minor this writer has */
    cr_assert_eq(ngr_trace_open_mem(&T, "x", BUF, LEN, ERR, sizeof ERR), -1);
    cr_expect(strstr(ERR, "byte 8: trace format version 2.0"), "%s", ERR);
}

Test(reader, crc_mismatch)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    BUF[NGR_HEADER_SIZE + 4096 + 40] ^= 1; /* inside chunk 1's data */
    cr_assert_eq(ngr_trace_open_mem(&T, "x", BUF, LEN, ERR, sizeof ERR), -1);
    cr_expect(strstr(ERR, "CRC-32C mismatch in chunk 1"), "%s", ERR);
    char want[64];
    snprintf(want, sizeof want, "byte %u:", NGR_HEADER_SIZE + 4096 + 16);
    cr_expect(strstr(ERR, want), "%s", ERR);
}

/* `report` opens with the event chunks' checks deferred to the replay: the same corruption then
 * stops the analysis, with the same message and offset, and nothing of the trace is reported. */
Test(reader, deferred_crc_mismatch_fails_the_analysis)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    BUF[NGR_HEADER_SIZE + 4096 + 40] ^= 1; /* inside chunk 1's data */
    cr_assert_eq(ngr_trace_open_mem_ex(&T, "x", BUF, LEN, NGR_TRACE_DEFER_CHECKS, ERR, sizeof ERR), 0, "%s", ERR);
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512] = "";
    cr_assert_eq(ngr_analyze_trace(&T, &rep, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "CRC-32C mismatch in chunk 1"), "%s", err);
    char want[64];
    snprintf(want, sizeof want, "x: byte %u:", NGR_HEADER_SIZE + 4096 + 16);
    cr_expect(strstr(err, want), "%s", err);
    cr_expect_eq(rep.processes, 0);
    cr_expect_eq(rep.nfindings, 0);
    ngr_report_free(&rep);
}

/* A sealed chunk whose CRC is right but whose records do not tile it (a hostile file can carry
 * a valid CRC): the deferred framing check catches it before the replay reads a record. */
Test(reader, deferred_bad_framing_fails_the_analysis)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    unsigned char *h = BUF + NGR_HEADER_SIZE + 4096; /* chunk 1: an event chunk */
    uint32_t stream, slen;
    memcpy(&stream, h + 4, 4);
    memcpy(&slen, h + 12, 4);
    cr_assert_neq(stream, 0);
    uint64_t big = ngr_word0(NGR_OP_ACCESS, 200, NGR_ACC_WRITE, 1); /* 1600 bytes: past the end */
    memcpy(h + NGR_CHUNK_HEADER_SIZE + slen - 32, &big, 8);
    uint32_t crc = ngr_crc32c(0, h + NGR_CHUNK_HEADER_SIZE, slen);
    memcpy(h + 16, &crc, 4);
    cr_assert_eq(ngr_trace_open_mem(&T, "x", BUF, LEN, ERR, sizeof ERR), -1, "eager open must fail too");
    cr_expect(strstr(ERR, "runs past the end of its chunk"), "%s", ERR);
    ngr_trace_close(&T);
    cr_assert_eq(ngr_trace_open_mem_ex(&T, "x", BUF, LEN, NGR_TRACE_DEFER_CHECKS, ERR, sizeof ERR), 0, "%s", ERR);
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512] = "";
    cr_assert_eq(ngr_analyze_trace(&T, &rep, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "runs past the end of its chunk"), "%s", err);
    ngr_report_free(&rep);
}

/* An intact trace reads the same either way. */
Test(reader, deferred_checks_read_the_same_events)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    uint64_t events[2];
    for (int deferred = 0; deferred < 2; deferred++) {
        cr_assert_eq(ngr_trace_open_mem_ex(&T, "x", BUF, LEN, deferred ? NGR_TRACE_DEFER_CHECKS : 0, ERR, sizeof ERR),
                     0, "%s", ERR);
        struct ngr_report rep;
        memset(&rep, 0, sizeof rep);
        char err[512] = "";
        cr_assert_eq(ngr_analyze_trace(&T, &rep, NULL, err, sizeof err), 0, "%s", err);
        events[deferred] = rep.events;
        ngr_report_free(&rep);
        ngr_trace_close(&T);
    }
    cr_expect_eq(events[0], 300);
    cr_expect_eq(events[1], events[0]);
}

Test(reader, bad_record_size_in_unsealed_chunk)
{
    struct ngr_tg *g = small_trace();
    struct ngr_tg_opts o = {.unsealed = true};
    ngr_tg_build(g, &o, &BUF, &LEN);
    ngr_tg_free(g);
    /* the last chunk (unsealed): after its records, one-word records of an unknown opcode (legal:
     * skipped by size) up to 64 bytes before its end, then a record claiming 200 words */
    uint64_t w0 = ngr_word0(NGR_OP_ACCESS, 4, NGR_ACC_WRITE, 1);
    size_t first = LEN - 4096 + NGR_CHUNK_HEADER_SIZE;
    cr_assert_eq(memcmp(BUF + first, &w0, 8), 0);
    size_t at = first;
    uint64_t word;
    while (memcpy(&word, BUF + at, 8), word)
        at += 8u * ngr_w0_words(word);
    uint64_t pad = ngr_word0(0x7f, 1, 0, 0), big = ngr_word0(NGR_OP_ACCESS, 200, NGR_ACC_WRITE, 1);
    for (; at + 64 < LEN; at += 8)
        memcpy(BUF + at, &pad, 8);
    memcpy(BUF + at, &big, 8);
    cr_assert_gt(at + 200 * 8, LEN);
    cr_assert_eq(ngr_trace_open_mem(&T, "x", BUF, LEN, ERR, sizeof ERR), -1);
    cr_expect(strstr(ERR, "runs past the end of its chunk"), "%s", ERR);
}

Test(reader, truncated_reads_to_last_complete_record)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    /* metadata chunk + 3 chunks of stream 1 (127 + 127 + 46 records); cut 10 bytes into the
     * second record of the last chunk */
    size_t cut = NGR_HEADER_SIZE + 3 * 4096 + NGR_CHUNK_HEADER_SIZE + 32 + 10;
    cr_assert_eq(ngr_trace_open_mem(&T, "x", BUF, cut, ERR, sizeof ERR), 0, "%s", ERR);
    cr_assert_eq(T.nwarnings, 1);
    cr_expect(strstr(T.warnings[0], "truncated at byte"), "%s", T.warnings[0]);
    struct ngr_replay r;
    ngr_replay_init(&r, &T);
    struct ngr_event ev;
    size_t n = 0;
    while (ngr_replay_next(&r, &ev))
        n++;
    cr_expect_eq(n, 127 + 127 + 1);
    ngr_replay_free(&r);
}

Test(reader, unsealed_chunks_warn_once)
{
    struct ngr_tg *g = small_trace();
    struct ngr_tg_opts o = {.unsealed = true};
    cr_assert_eq(open_built(g, &o), 0, "%s", ERR);
    ngr_tg_free(g);
    cr_assert_eq(T.nwarnings, 1);
    cr_expect(strstr(T.warnings[0], "trace incomplete (process did not finish); read up to byte"), "%s", T.warnings[0]);
    struct ngr_replay r;
    ngr_replay_init(&r, &T);
    struct ngr_event ev;
    size_t n = 0;
    while (ngr_replay_next(&r, &ev))
        n++;
    cr_expect_eq(n, 300);
    ngr_replay_free(&r);
}

Test(reader, duplicate_stream_seq_is_corrupt)
{
    struct ngr_tg *g = small_trace();
    ngr_tg_build(g, NULL, &BUF, &LEN);
    ngr_tg_free(g);
    struct ngr_chunk_header *c2 = (struct ngr_chunk_header *)(BUF + NGR_HEADER_SIZE + 2 * 4096);
    cr_assert_eq(c2->stream, 1);
    c2->stream_seq = 0;
    cr_assert_eq(ngr_trace_open_mem(&T, "x", BUF, LEN, ERR, sizeof ERR), -1);
    cr_expect(strstr(ERR, "two chunks with stream_seq 0"), "%s", ERR);
}

/* A thread-per-request program: thousands of short streams, replayed in seq order. */
Test(reader, thousands_of_threads_in_seq_order)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    for (uint32_t i = 2; i < 3002; i++) {
        ngr_tg_thread(g, 1, NGR_THR_SPAWN, i, 0);
        ngr_tg_thread(g, i, NGR_THR_BEGIN, 1, 0);
        ngr_tg_access(g, i, NGR_ACC_WRITE, 1, 0, i, 0);
        ngr_tg_thread(g, i, NGR_THR_END, 0, 0);
        ngr_tg_thread(g, 1, NGR_THR_JOIN, i, 0);
    }
    cr_assert_eq(open_built(g, NULL), 0, "%s", ERR);
    ngr_tg_free(g);
    cr_assert_eq(T.nstreams, 3001);
    struct ngr_replay r;
    ngr_replay_init(&r, &T);
    struct ngr_event ev;
    uint64_t last = 0, n = 0;
    while (ngr_replay_next(&r, &ev)) {
        n++;
        if (ev.op == NGR_OP_ACCESS) {
            cr_assert_eq(r.threads[ev.tix].num, ev.frame_id); /* in its own thread, after BEGIN */
            continue;
        }
        cr_assert_gt(ev.seq, last, "seq %lu after %lu", (unsigned long)ev.seq, (unsigned long)last);
        last = ev.seq;
    }
    cr_assert_eq(n, 3000 * 5);
    ngr_replay_free(&r);
}
