/* test_hostile_input.c — issue #12, the analyzer's side: input that is not a well-formed trace never
 * hides the traces that are, never hangs, never kills the analyzer with a signal, and costs what
 * the file holds, not what it claims:
 *   - files without a header (a process killed between creating its trace and writing the header)
 *     and corrupt files among several: a warning naming each, the others reported;
 *   - a FIFO named as a trace: refused at once;
 *   - a trace truncated while it is read: a clear error, not SIGBUS;
 *   - a sparse file: its holes are skipped, not read;
 *   - the pages of the mapping are handed back: the resident part does not grow with the trace. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_fixture.h"
#include "dump.h"
#include "replay.h"

/* a FIFO that hangs the reader must fail the test, not the test run */
TestSuite(hostile, .init = fx_dir_init, .fini = fx_dir_fini, .timeout = 60);

/* The racy trace of test_report.c: a lost update on app.x by worker-0 and worker-1. */
static void write_racy(const char *name, uint32_t chunk_size)
{
    fx_write_trace(name, true, NULL, chunk_size);
}

static void write_bytes(const char *name, const void *p, size_t n)
{
    FILE *f = fopen(fx_path(name), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static const char *find_warning(const struct ngr_report *r, const char *a, const char *b)
{
    for (size_t i = 0; i < r->nwarnings; i++)
        if (strstr(r->warnings[i], a) && (!b || strstr(r->warnings[i], b)))
            return r->warnings[i];
    return NULL;
}

/* ---- files without a header, corrupt files, among others ------------------------------------- */

/* The scenario of the issue: a program forks workers and kills them at once; a worker killed
 * between creating its trace and writing the header leaves an empty file, or zeros (the header
 * page reserved, nothing written), or a short file of zeros.  The parent's race is still
 * reported, each such file named in a warning. */
Test(hostile, files_without_header_do_not_hide_the_others)
{
    static const unsigned char zeros[4096];
    write_racy("parent.ngrtrace", 4096);
    write_bytes("empty.ngrtrace", zeros, 0);
    write_bytes("zeros.ngrtrace", zeros, sizeof zeros);
    write_bytes("short.ngrtrace", zeros, 100);
    cr_expect_eq(fx_report(FX_DIR, NULL, NULL), 66, "the directory: the parent's race");

    char *paths[] = {fx_path("empty.ngrtrace"), fx_path("parent.ngrtrace"), fx_path("short.ngrtrace"), fx_path("zeros.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 4);
    cr_expect_eq(rep.nfindings, 1);
    cr_expect_eq(rep.processes, 1);
    cr_expect_eq(rep.traces_no_header, 3);
    cr_expect_eq(rep.traces_unreadable, 0);
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        cr_expect_not_null(find_warning(&rep, paths[i], "no trace header (the process died at start"),
                           "no warning naming %s", paths[i]);
    }
    ngr_report_free(&rep);
}

/* Alone, such a file is all there is: nothing to report, exit 2 with the one line. */
Test(hostile, a_file_without_header_alone_is_an_error)
{
    static const unsigned char zeros[4096];
    write_bytes("zeros.ngrtrace", zeros, sizeof zeros);
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512];
    char *paths[] = {fx_path("zeros.ngrtrace")};
    cr_expect_eq(ngr_analyze_files(paths, 1, &rep, NULL, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "zeros.ngrtrace: byte 0: only zeros: no trace header"), "%s", err);
    ngr_report_free(&rep);
    cr_expect_eq(fx_report(fx_path("zeros.ngrtrace"), NULL, NULL), 2);
}

/* A corrupt trace among several is named in a warning and the others are reported; only when no
 * trace at all can be read is it exit 2. */
Test(hostile, corrupt_trace_among_others_warns)
{
    write_racy("good.ngrtrace", 4096);
    write_bytes("junk.ngrtrace", "this is not a trace\n", 20);
    write_racy("flip.ngrtrace", 4096);
    FILE *f = fopen(fx_path("flip.ngrtrace"), "r+b");
    cr_assert_not_null(f);
    fseek(f, 4096 + 4096 + 40, SEEK_SET); /* inside chunk 1, a sealed event chunk */
    int c = fgetc(f);
    fseek(f, 4096 + 4096 + 40, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
    cr_expect_eq(fx_report(FX_DIR, NULL, NULL), 66);
    cr_expect_eq(fx_report(fx_path("junk.ngrtrace"), fx_path("good.ngrtrace"), NULL), 66);
    cr_expect_eq(fx_report(fx_path("junk.ngrtrace"), fx_path("flip.ngrtrace"), NULL), 2, "nothing readable");

    char *paths[] = {fx_path("flip.ngrtrace"), fx_path("good.ngrtrace"), fx_path("junk.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 3);
    cr_expect_eq(rep.nfindings, 1);
    cr_expect_eq(rep.processes, 1, "the corrupt trace's findings are not merged");
    cr_expect_eq(rep.traces_unreadable, 2);
    cr_expect_not_null(find_warning(&rep, "flip.ngrtrace: byte", "CRC-32C mismatch"));
    cr_expect_not_null(find_warning(&rep, "junk.ngrtrace: byte 0", "bad magic"));
    ngr_report_free(&rep);
}

/* ---- FIFOs ----------------------------------------------------------------------------------- */

/* Named on the command line, a FIFO would block open() until a writer came. */
Test(hostile, fifo_named_as_a_trace_is_refused)
{
    cr_assert_eq(mkfifo(fx_path("pipe.ngrtrace"), 0600), 0);
    struct ngr_trace t;
    char err[512];
    cr_expect_eq(ngr_trace_open(&t, fx_path("pipe.ngrtrace"), err, sizeof err), -1);
    ngr_trace_close(&t);
    cr_expect_not_null(strstr(err, "pipe.ngrtrace: a FIFO, not a trace file"), "%s", err);
    cr_expect_eq(fx_report(fx_path("pipe.ngrtrace"), NULL, NULL), 2);
    char *argv[] = {"dump", fx_path("pipe.ngrtrace"), NULL};
    cr_expect_eq(ngr_cmd_dump(2, argv), 2);
    /* inside a directory it is not a trace file at all */
    write_racy("good.ngrtrace", 4096);
    cr_expect_eq(fx_report(FX_DIR, NULL, NULL), 66);
}

/* ---- a file that shrinks while it is read ------------------------------------------------------ */

/* A trace of many 4 KiB chunks: two threads, a lost update each round. */
static void write_long(const char *name)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    for (uint64_t i = 0; i < 4000; i++) {
        fx_rmw(g, 2, X, 0, 0x20 + 2 * i, s, 0);
        fx_rmw(g, 3, X, 0, 0x21 + 2 * i, s, 0);
    }
    fx_finish2(g);
    cr_assert_eq(ngr_tg_write(g, NULL, fx_path(name)), 0);
    ngr_tg_free(g);
}

/* report's way: the file is cut to its header and two chunks after it was opened; reading the
 * lost pages raised SIGBUS and killed the analyzer (exit 135).  Now the analysis fails with one
 * line and reports nothing of the trace. */
Test(hostile, trace_truncated_while_analysed)
{
    write_long("long.ngrtrace");
    struct stat st;
    cr_assert_eq(stat(fx_path("long.ngrtrace"), &st), 0);
    cr_assert_gt(st.st_size, 4096 + 40 * 4096, "the trace should have many chunks");
    struct ngr_trace t;
    char err[512];
    cr_assert_eq(ngr_trace_open_ex(&t, fx_path("long.ngrtrace"), NGR_TRACE_DEFER_CHECKS, err, sizeof err), 0, "%s", err);
    cr_assert_eq(truncate(fx_path("long.ngrtrace"), 4096 + 2 * 4096), 0);
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    cr_expect_eq(ngr_analyze_trace(&t, &rep, NULL, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "long.ngrtrace: byte"), "%s", err);
    cr_expect_not_null(strstr(err, "the file shrank to 12288 bytes while it was being read"), "%s", err);
    cr_expect_eq(rep.processes, 0);
    cr_expect_eq(rep.nfindings, 0);
    ngr_report_free(&rep);
    ngr_trace_close(&t);
}

/* dump's way: every check at open, then the replay alone reads the events. */
Test(hostile, trace_truncated_while_replayed)
{
    write_long("long.ngrtrace");
    struct ngr_trace t;
    char err[512];
    cr_assert_eq(ngr_trace_open(&t, fx_path("long.ngrtrace"), err, sizeof err), 0, "%s", err);
    cr_assert_eq(ngr_trace_check_shrunk(&t, err, sizeof err), 0);
    cr_assert_eq(truncate(fx_path("long.ngrtrace"), 4096 + 4096), 0);
    struct ngr_replay r;
    ngr_replay_init(&r, &t);
    struct ngr_event ev;
    uint64_t n = 0;
    while (ngr_replay_next(&r, &ev))
        n++;
    ngr_replay_free(&r);
    cr_expect_eq(ngr_trace_check_shrunk(&t, err, sizeof err), -1, "%" PRIu64 " events replayed", n);
    cr_expect_not_null(strstr(err, "the file shrank to 8192 bytes"), "%s", err);
    ngr_trace_close(&t);
}

/* ---- sparse files -------------------------------------------------------------------------------- */

/* A valid trace followed by a 1 GiB hole: the holes are skipped (not read page by page), with a
 * warning; the events are those of the trace. */
Test(hostile, sparse_file_holes_are_skipped)
{
    write_racy("sparse.ngrtrace", 65536);
    struct stat st;
    cr_assert_eq(stat(fx_path("sparse.ngrtrace"), &st), 0);
    off_t data = st.st_size;
    cr_assert_eq(truncate(fx_path("sparse.ngrtrace"), (off_t)1 << 30), 0);
    char *paths[] = {fx_path("sparse.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 1);
    cr_expect_eq(rep.nfindings, 1);
    char want[96];
    uint64_t slots = (((uint64_t)1 << 30) - 4096 + 65535) / 65536, used = (uint64_t)(data - 4096) / 65536;
    snprintf(want, sizeof want, "sparse file: %" PRIu64 " of its %" PRIu64 " chunks were never written", slots - used,
             slots);
    cr_expect_not_null(find_warning(&rep, want, NULL), "want '%s'", want);
    ngr_report_free(&rep);
}

/* ---- resident memory ------------------------------------------------------------------------------- */

/* Pages of [p, p + len) mapped in this process (/proc/self/pagemap, bit 63). */
static size_t present_pages(const void *p, size_t len)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    cr_assert_geq(fd, 0);
    size_t n = 0;
    uint64_t e[512];
    uintptr_t first = (uintptr_t)p / 4096, last = ((uintptr_t)p + len + 4095) / 4096;
    for (uintptr_t pg = first; pg < last; pg += 512) {
        size_t k = last - pg < 512 ? last - pg : 512;
        cr_assert_eq(pread(fd, e, k * 8, (off_t)(pg * 8)), (ssize_t)(k * 8));
        for (size_t i = 0; i < k; i++)
            n += e[i] >> 63;
    }
    close(fd);
    return n;
}

/* Pages of the mapping resident after opening a trace of `threads` threads of one 64 KiB chunk
 * each (*after_open), and after the replay read each thread's first chunk (*after_init). */
static void resident_for(uint32_t threads, size_t *after_open, size_t *after_init)
{
    struct ngr_tg *g = ngr_tg_new(65536);
    ngr_tg_var(g, X, NGR_VAR_GLOBAL, "app.x");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    for (uint32_t th = 2; th < 2 + threads; th++) {
        ngr_tg_thread(g, 1, NGR_THR_SPAWN, th, 0);
        ngr_tg_thread(g, th, NGR_THR_BEGIN, 1, 0);
        for (int i = 0; i < 100; i++)
            ngr_tg_access(g, th, NGR_ACC_READ, X, 0, th, 0);
        ngr_tg_thread(g, th, NGR_THR_END, 0, 0);
        ngr_tg_thread(g, 1, NGR_THR_JOIN, th, 0);
    }
    ngr_tg_end(g);
    /* Written a page at a time, as the shim's writer fills its file (through a shared mapping):
     * the page cache then holds single pages, which fault-around maps 16 at a time.  (Written in
     * one call, the file may sit in 2 MiB folios, mapped and unmapped whole.) */
    unsigned char *buf;
    size_t len;
    ngr_tg_build(g, NULL, &buf, &len);
    ngr_tg_free(g);
    int fd = open(fx_path("threads.ngrtrace"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    for (size_t off = 0; off < len; off += 4096)
        cr_assert_eq(write(fd, buf + off, len - off < 4096 ? len - off : 4096), (ssize_t)(len - off < 4096 ? len - off : 4096));
    close(fd);
    free(buf);
    struct ngr_trace t;
    char err[512];
    cr_assert_eq(ngr_trace_open_ex(&t, fx_path("threads.ngrtrace"), NGR_TRACE_DEFER_CHECKS, err, sizeof err), 0, "%s", err);
    cr_assert(t.mapped);
    cr_assert_gt(t.size, threads * 65536u);
    *after_open = present_pages(t.base, t.size);
    struct ngr_replay r;
    ngr_replay_init(&r, &t);
    *after_init = present_pages(t.base, t.size);
    ngr_replay_free(&r);
    ngr_trace_close(&t);
    unlink(fx_path("threads.ngrtrace"));
}

/* Opening a trace reads every chunk header, and the replay reads each thread's first chunk at
 * once; each read also maps the cached pages around it (the kernel's fault-around, 64 KiB
 * aligned), and so the last page of the chunk before, handed back already, came back and stayed:
 * a page per chunk, 1/16 of the trace (331 MiB of a 5.4 GB trace).  Handed back, the resident
 * part of the mapping does not grow with the trace: 4x the chunks, about the same pages (the
 * metadata chunk and what maps with it). */
Test(hostile, resident_pages_do_not_grow_with_the_trace)
{
    size_t open1, init1, open4, init4;
    resident_for(300, &open1, &init1);
    resident_for(1200, &open4, &init4);
    cr_expect_lt(open4, open1 + 300, "after open: %zu pages resident for 300 chunks, %zu for 1200", open1, open4);
    cr_expect_lt(init4, init1 + 300, "after the replay's start: %zu pages resident for 300 chunks, %zu for 1200",
                 init1, init4);
    cr_log_info("resident pages: open %zu / %zu, replay start %zu / %zu", open1, open4, init1, init4);
}
