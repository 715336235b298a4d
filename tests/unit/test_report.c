/* test_report.c — `nogilrace report` end to end on trace files: exit status (0 / 66 / --exit-code /
 * 2 for usage errors and bad input), several traces merged, incomplete and truncated traces read
 * with a warning. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis_fixture.h"
#include "report.h"

static char DIR_[64];

static void setup(void)
{
    snprintf(DIR_, sizeof DIR_, "/tmp/ngr-test-report-XXXXXX");
    cr_assert_not_null(mkdtemp(DIR_));
    cr_redirect_stdout();
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(report, .init = setup, .fini = teardown);

static char *path(const char *name)
{
    static char buf[4][128];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 128, "%s/%s", DIR_, name);
    return p;
}

/* A trace with a lost update (racy) or the same updates under one lock (clean). */
static void write_trace(const char *name, bool racy, const struct ngr_tg_opts *o)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    fx_rmw(g, 2, X, 0, 0x20, s, racy ? 0 : L1);
    fx_rmw(g, 3, X, 0, 0x30, s, racy ? 0 : L1);
    fx_finish2(g);
    cr_assert_eq(ngr_tg_write(g, o, path(name)), 0);
    ngr_tg_free(g);
}

static int report(const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"report", (char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    return ngr_cmd_report(argc, argv);
}

Test(report, exit_status)
{
    write_trace("racy.ngrtrace", true, NULL);
    write_trace("clean.ngrtrace", false, NULL);
    cr_expect_eq(report(path("racy.ngrtrace"), NULL, NULL), 66);
    cr_expect_eq(report("--exit-code=3", path("racy.ngrtrace"), NULL), 3);
    cr_expect_eq(report(path("clean.ngrtrace"), NULL, NULL), 0);
    cr_expect_eq(report("--format=json", path("racy.ngrtrace"), NULL), 66);
    cr_expect_eq(report("--format=sarif", path("clean.ngrtrace"), NULL), 0);
}

Test(report, usage_errors_exit_2)
{
    write_trace("racy.ngrtrace", true, NULL);
    cr_expect_eq(report("--bogus", path("racy.ngrtrace"), NULL), 2);
    cr_expect_eq(report("--format=xml", path("racy.ngrtrace"), NULL), 2);
    cr_expect_eq(report("--exit-code=x", path("racy.ngrtrace"), NULL), 2);
    cr_expect_eq(report(path("missing.ngrtrace"), NULL, NULL), 2);
    cr_expect_eq(report(NULL, NULL, NULL), 2);
    mkdir(path("empty"), 0700);
    cr_expect_eq(report(path("empty"), NULL, NULL), 2); /* a directory without traces */
}

Test(report, corrupt_input_exits_2)
{
    FILE *f = fopen(path("junk.ngrtrace"), "w");
    cr_assert_not_null(f);
    fputs("this is not a trace\n", f);
    fclose(f);
    cr_expect_eq(report(path("junk.ngrtrace"), NULL, NULL), 2);
    f = fopen(path("empty.ngrtrace"), "w");
    fclose(f);
    cr_expect_eq(report(path("empty.ngrtrace"), NULL, NULL), 2);
    /* one byte of a sealed chunk flipped: CRC mismatch */
    write_trace("flip.ngrtrace", true, NULL);
    f = fopen(path("flip.ngrtrace"), "r+b");
    cr_assert_not_null(f);
    fseek(f, 4096 + 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 4096 + 40, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
    cr_expect_eq(report(path("flip.ngrtrace"), NULL, NULL), 2);
}

/* A directory holds one trace per process: both analysed, the same race merged into one finding. */
Test(report, directory_of_traces_merged)
{
    write_trace("a.ngrtrace", true, NULL);
    write_trace("b.ngrtrace", true, NULL);
    write_trace("ignored.txt", true, NULL);
    cr_expect_eq(report(DIR_, NULL, NULL), 66);
    char *paths[] = {path("a.ngrtrace"), path("b.ngrtrace")};
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512];
    cr_assert_eq(ngr_analyze_files(paths, 2, &rep, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(rep.processes, 2);
    cr_assert_eq(rep.nfindings, 1);
    cr_expect_eq(rep.findings[0].count, 2);
    cr_expect_str_eq(rep.python_version, "3.13.5");
    cr_expect(rep.free_threaded);
    ngr_report_free(&rep);
}

/* A process killed mid-run: unsealed chunks, no FINISHED flag; read with one warning. */
Test(report, unfinished_trace_warns)
{
    struct ngr_tg_opts o = {.unsealed = true, .not_finished = true};
    write_trace("killed.ngrtrace", true, &o);
    char *paths[] = {path("killed.ngrtrace")};
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512];
    cr_assert_eq(ngr_analyze_files(paths, 1, &rep, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rep.nwarnings, 1);
    cr_expect_not_null(strstr(rep.warnings[0], "trace incomplete (process did not finish); read up to byte"),
                       "%s", rep.warnings[0]);
    cr_expect_eq(rep.nfindings, 1);
    ngr_report_free(&rep);
}

/* A warning the traced process wrote (a full table, a fatal signal) is printed on stderr, like the
 * reader's own warnings, for every output format; the text report has no other place for it. */
Test(report, trace_notes_reach_stderr)
{
    struct ngr_tg *g = fx_new();
    ngr_tg_note(g, NGR_NOTE_WARNING, "variable table full: new variables are not traced");
    fx_start2(g);
    fx_finish2(g);
    cr_assert_eq(ngr_tg_write(g, NULL, path("note.ngrtrace")), 0);
    ngr_tg_free(g);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = tmpfile();
    cr_assert(saved >= 0 && cap);
    dup2(fileno(cap), 2);
    int rc = report(path("note.ngrtrace"), NULL, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    cr_expect_eq(rc, 0);
    char buf[4096] = "";
    rewind(cap);
    size_t n = fread(buf, 1, sizeof buf - 1, cap);
    buf[n] = 0;
    fclose(cap);
    cr_expect_not_null(strstr(buf, "nogilrace: warning: "), "stderr: %s", buf);
    cr_expect_not_null(strstr(buf, "note.ngrtrace: variable table full: new variables are not traced"), "stderr: %s", buf);
    const char *first = strstr(buf, "variable table full");
    cr_expect(first && !strstr(first + 1, "variable table full"), "printed once: %s", buf);
}

/* A lost update on re's pattern cache (tolerated by CPython's design) is suppressed by default
 * and counted; --no-default-suppressions reports it. */
Test(report, default_suppressions_and_their_switch)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED, "3.13.5", "python app.py");
    ngr_tg_var(g, X, NGR_VAR_CONTAINER, "re._cache");
    ngr_tg_key(g, 7, NGR_KEY_STR, "'\\d+'");
    ngr_tg_thread_name(g, 2, "worker-0");
    ngr_tg_thread_name(g, 3, "worker-1");
    uint32_t s = ngr_tg_stack1(g, "/usr/lib/python3.13t/re/__init__.py", "_compile", 305);
    fx_start2(g);
    fx_rmw(g, 2, X, 7, 0x20, s, 0);
    fx_rmw(g, 3, X, 7, 0x30, s, 0);
    fx_finish2(g);
    cr_assert_eq(ngr_tg_write(g, NULL, path("re.ngrtrace")), 0);
    ngr_tg_free(g);
    cr_expect_eq(report(path("re.ngrtrace"), NULL, NULL), 0, "suppressed by default");
    cr_expect_eq(report("--no-default-suppressions", path("re.ngrtrace"), NULL), 66, "reported when asked");
}

/* A file cut in the middle of its last chunk: what is complete is read, with a warning. */
Test(report, truncated_trace_warns)
{
    write_trace("cut.ngrtrace", true, NULL);
    struct stat st;
    cr_assert_eq(stat(path("cut.ngrtrace"), &st), 0);
    /* keep 48 bytes of the last chunk: its header and the first record's first words */
    off_t keep = st.st_size - 4096 + 48;
    cr_assert_eq(truncate(path("cut.ngrtrace"), keep), 0);
    char *paths[] = {path("cut.ngrtrace")};
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512];
    cr_assert_eq(ngr_analyze_files(paths, 1, &rep, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_geq(rep.nwarnings, 1);
    bool truncated = false;
    for (size_t i = 0; i < rep.nwarnings; i++)
        truncated |= strstr(rep.warnings[i], "truncated") != NULL;
    cr_expect(truncated, "no truncation warning");
    ngr_report_free(&rep);
}
