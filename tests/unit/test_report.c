/* test_report.c — `nogilrace report` end to end on trace files: exit status (0 / 66 / --exit-code /
 * 2 for usage errors and bad input), several traces merged, incomplete and truncated traces read
 * with a warning. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_fixture.h"

TestSuite(report, .init = fx_dir_init, .fini = fx_dir_fini);

/* A trace with a lost update (racy) or the same updates under one lock (clean). */
static void write_trace(const char *name, bool racy, const struct ngr_tg_opts *o)
{
    fx_write_trace(name, racy, o, 4096);
}

Test(report, exit_status)
{
    write_trace("racy.ngrtrace", true, NULL);
    write_trace("clean.ngrtrace", false, NULL);
    cr_expect_eq(fx_report(fx_path("racy.ngrtrace"), NULL, NULL), 66);
    cr_expect_eq(fx_report("--exit-code=3", fx_path("racy.ngrtrace"), NULL), 3);
    cr_expect_eq(fx_report(fx_path("clean.ngrtrace"), NULL, NULL), 0);
    cr_expect_eq(fx_report("--format=json", fx_path("racy.ngrtrace"), NULL), 66);
    cr_expect_eq(fx_report("--format=sarif", fx_path("clean.ngrtrace"), NULL), 0);
}

Test(report, usage_errors_exit_2)
{
    write_trace("racy.ngrtrace", true, NULL);
    cr_expect_eq(fx_report("--bogus", fx_path("racy.ngrtrace"), NULL), 2);
    cr_expect_eq(fx_report("--format=xml", fx_path("racy.ngrtrace"), NULL), 2);
    cr_expect_eq(fx_report("--exit-code=x", fx_path("racy.ngrtrace"), NULL), 2);
    cr_expect_eq(fx_report(fx_path("missing.ngrtrace"), NULL, NULL), 2);
    cr_expect_eq(fx_report(NULL, NULL, NULL), 2);
    mkdir(fx_path("empty"), 0700);
    cr_expect_eq(fx_report(fx_path("empty"), NULL, NULL), 2); /* a directory without traces */
}

Test(report, corrupt_input_exits_2)
{
    FILE *f = fopen(fx_path("junk.ngrtrace"), "w");
    cr_assert_not_null(f);
    fputs("this is not a trace\n", f);
    fclose(f);
    cr_expect_eq(fx_report(fx_path("junk.ngrtrace"), NULL, NULL), 2);
    f = fopen(fx_path("empty.ngrtrace"), "w");
    fclose(f);
    cr_expect_eq(fx_report(fx_path("empty.ngrtrace"), NULL, NULL), 2);
    /* one byte of a sealed chunk flipped: CRC mismatch */
    write_trace("flip.ngrtrace", true, NULL);
    f = fopen(fx_path("flip.ngrtrace"), "r+b");
    cr_assert_not_null(f);
    fseek(f, 4096 + 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 4096 + 40, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
    cr_expect_eq(fx_report(fx_path("flip.ngrtrace"), NULL, NULL), 2);
}

/* A directory holds one trace per process: both analysed, the same race merged into one finding. */
Test(report, directory_of_traces_merged)
{
    write_trace("a.ngrtrace", true, NULL);
    write_trace("b.ngrtrace", true, NULL);
    write_trace("ignored.txt", true, NULL);
    cr_expect_eq(fx_report(FX_DIR, NULL, NULL), 66);
    char *paths[] = {fx_path("a.ngrtrace"), fx_path("b.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 2);
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
    char *paths[] = {fx_path("killed.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 1);
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
    cr_assert_eq(ngr_tg_write(g, NULL, fx_path("note.ngrtrace")), 0);
    ngr_tg_free(g);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = tmpfile();
    cr_assert(saved >= 0 && cap);
    dup2(fileno(cap), 2);
    int rc = fx_report(fx_path("note.ngrtrace"), NULL, NULL);
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
    cr_assert_eq(ngr_tg_write(g, NULL, fx_path("re.ngrtrace")), 0);
    ngr_tg_free(g);
    cr_expect_eq(fx_report(fx_path("re.ngrtrace"), NULL, NULL), 0, "suppressed by default");
    cr_expect_eq(fx_report("--no-default-suppressions", fx_path("re.ngrtrace"), NULL), 66, "reported when asked");
}

/* A file cut in the middle of its last chunk: what is complete is read, with a warning. */
Test(report, truncated_trace_warns)
{
    write_trace("cut.ngrtrace", true, NULL);
    struct stat st;
    cr_assert_eq(stat(fx_path("cut.ngrtrace"), &st), 0);
    /* keep 48 bytes of the last chunk: its header and the first record's first words */
    off_t keep = st.st_size - 4096 + 48;
    cr_assert_eq(truncate(fx_path("cut.ngrtrace"), keep), 0);
    char *paths[] = {fx_path("cut.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 1);
    cr_expect_geq(rep.nwarnings, 1);
    bool truncated = false;
    for (size_t i = 0; i < rep.nwarnings; i++)
        truncated |= strstr(rep.warnings[i], "truncated") != NULL;
    cr_expect(truncated, "no truncation warning");
    ngr_report_free(&rep);
}

/* ---- names from the trace in the text report (issue #12) ------------------------------------------ */

static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0;
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    }
    return n;
}

/* A thread named "x\n==================\nWARNING: nogilrace: ..." printed a forged finding, and
 * escape sequences in any name reached the terminal.  Every name the text report prints (threads,
 * variables, keys, files, functions, locks, the GIL note's module) is escaped, once. */
Test(report, names_cannot_forge_findings_or_drive_the_terminal)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED, "3.13.5\x1b[2J", "python app.py");
    ngr_tg_var(g, X, NGR_VAR_GLOBAL, "app.x\n==================\nWARNING: nogilrace: lost-update on forged.var");
    ngr_tg_sobj(g, L1, NGR_SOBJ_LOCK, "app.lock\x1b]0;title\x07");
    ngr_tg_thread_name(g, 2, "w0\n==================\nWARNING: nogilrace: check-then-act on forged.too (global)");
    ngr_tg_thread_name(g, 3, "w1\r\x1b[31mred\xc2\x9b" "31m\xe2\x80\xaereversed");
    ngr_tg_gil(g, true, "ext\nnote: forged");
    uint32_t s2 = ngr_tg_stack1(g, "app\n==================\n.py", "work\x1b[1m", 8);
    fx_start2(g);
    fx_rmw(g, 2, X, 0, 0x20, s2, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, L1, 0, 0);
    fx_rmw(g, 3, X, 0, 0x30, s2, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, L1, 0, 0);
    fx_finish2(g);
    cr_assert_eq(ngr_tg_write(g, NULL, fx_path("evil.ngrtrace")), 0);
    ngr_tg_free(g);
    int rc;
    char *out = fx_report_output(fx_path("evil.ngrtrace"), NULL, NULL, &rc);
    cr_expect_eq(rc, 66, "%s", out);
    cr_expect_eq(count_lines_starting(out, "WARNING: nogilrace:"), 1, "one finding, one header line:\n%s", out);
    cr_expect_eq(count_lines_starting(out, "=================="), 2, "%s", out);
    cr_expect_eq(count_lines_starting(out, "note:"), 1, "%s", out);
    cr_expect_null(strchr(out, '\x1b'), "an ESC reached the output:\n%s", out);
    cr_expect_null(strchr(out, '\r'), "%s", out);
    cr_expect_null(strchr(out, '\x07'), "%s", out);
    cr_expect_null(strstr(out, "\xc2\x9b"), "a C1 control reached the output");
    cr_expect_null(strstr(out, "\xe2\x80\xae"), "a bidi override reached the output");
    /* shown, escaped */
    cr_expect_not_null(strstr(out, "app.x\\n==================\\nWARNING: nogilrace: lost-update on forged.var"), "%s", out);
    cr_expect_not_null(strstr(out, "\"w1\\r\\x1b[31mred\\u009b31m\\u202ereversed\""), "%s", out);
    cr_expect_not_null(strstr(out, "app.lock\\x1b]0;title\\x07"), "%s", out);
    cr_expect_not_null(strstr(out, "#0 work\\x1b[1m app\\n==================\\n.py:8"), "%s", out);
    cr_expect_not_null(strstr(out, "importing ext\\nnote: forged (pid"), "%s", out);
    cr_expect_not_null(strstr(out, "; Python 3.13.5\\x1b[2J"), "%s", out);
    free(out);
}

/* ---- what the report could not see: exit status and summary (issue #12) ------------------------- */

/* A trace of one process: racy or not; flags of its PROCESS record; header flags; a warning NOTE. */
static void write_process(const char *name, bool racy, unsigned proc_flags, const char *version, uint32_t hdr_flags,
                          const char *note, uint32_t pid)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_process(g, proc_flags, version, "python app.py");
    if (hdr_flags & NGR_HDR_DISABLED) /* an earlier, unrelated warning: the summary gives the last */
        ngr_tg_note(g, NGR_NOTE_WARNING, "variable table full: new variables are not traced");
    if (note)
        ngr_tg_note(g, NGR_NOTE_WARNING, note);
    ngr_tg_var(g, X, NGR_VAR_GLOBAL, "app.x");
    ngr_tg_sobj(g, L1, NGR_SOBJ_LOCK, "app.lock");
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    if (!(proc_flags & NGR_PROC_NO_HOOKS)) { /* an untraced process records no Python access */
        fx_rmw(g, 2, X, 0, 0x20, s, racy ? 0 : L1);
        fx_rmw(g, 3, X, 0, 0x30, s, racy ? 0 : L1);
    }
    fx_finish2(g);
    struct ngr_tg_opts o = {.header_flags = hdr_flags, .pid = pid};
    cr_assert_eq(ngr_tg_write(g, &o, fx_path(name)), 0);
    ngr_tg_free(g);
}

#define FT NGR_PROC_FREE_THREADED
#define UNTRACED_NOTE "no CPython hooks for this interpreter (nogilrace-cp314t.so not found): this process ran untraced"
#define STOPPED_NOTE "tracing stopped: disk full (No space left on device)"

/* The order: races (66, or --exit-code) first, then a Python process that ran untraced (67), then
 * tracing that stopped early (68), else 0. */
Test(report, exit_status_says_what_was_not_traced)
{
    write_process("clean.ngrtrace", false, FT, "3.13.5", 0, NULL, 100);
    write_process("racy.ngrtrace", true, FT, "3.13.5", 0, NULL, 101);
    write_process("untraced.ngrtrace", false, FT | NGR_PROC_NO_HOOKS, "3.14.0 free-threading build", 0, UNTRACED_NOTE, 102);
    write_process("stopped.ngrtrace", false, FT, "3.13.5", NGR_HDR_DISABLED, STOPPED_NOTE, 103);
    cr_expect_eq(fx_report(fx_path("clean.ngrtrace"), NULL, NULL), 0);
    cr_expect_eq(fx_report(fx_path("untraced.ngrtrace"), NULL, NULL), 67);
    cr_expect_eq(fx_report(fx_path("stopped.ngrtrace"), NULL, NULL), 68);
    cr_expect_eq(fx_report(fx_path("clean.ngrtrace"), fx_path("untraced.ngrtrace"), NULL), 67);
    cr_expect_eq(fx_report(fx_path("stopped.ngrtrace"), fx_path("untraced.ngrtrace"), NULL), 67, "67 before 68");
    cr_expect_eq(fx_report(fx_path("racy.ngrtrace"), fx_path("untraced.ngrtrace"), fx_path("stopped.ngrtrace")), 66, "races first");
    cr_expect_eq(fx_report("--exit-code=3", fx_path("racy.ngrtrace"), fx_path("stopped.ngrtrace")), 3);
    cr_expect_eq(fx_report("--exit-code=0", fx_path("racy.ngrtrace"), fx_path("stopped.ngrtrace")), 68,
                 "--exit-code=0 lets the next checks speak");
    cr_expect_eq(fx_report("--format=json", fx_path("untraced.ngrtrace"), NULL), 67, "every format");
    cr_expect_eq(fx_report("--format=sarif", fx_path("stopped.ngrtrace"), NULL), 68, "every format");
}

/* The summary line names the untraced process's interpreter and the reason its NOTE gives, and
 * why tracing stopped early. */
Test(report, summary_says_what_was_not_traced)
{
    write_process("untraced.ngrtrace", false, FT | NGR_PROC_NO_HOOKS, "3.14.0 free-threading build", 0, UNTRACED_NOTE, 102);
    write_process("stopped.ngrtrace", false, FT, "3.13.5", NGR_HDR_DISABLED, STOPPED_NOTE, 103);
    int rc;
    char *out = fx_report_output(fx_path("untraced.ngrtrace"), fx_path("stopped.ngrtrace"), NULL, &rc);
    cr_expect_eq(rc, 67);
    const char *sum = strstr(out, "nogilrace: 0 races found");
    cr_assert_not_null(sum, "%s", out);
    cr_expect_not_null(strstr(sum, "; 1 Python process ran untraced (pid 102, Python 3.14.0: " UNTRACED_NOTE ")"),
                       "%s", sum);
    cr_expect_not_null(strstr(sum, "; tracing stopped early in 1 process (pid 103: " STOPPED_NOTE "), events are missing"),
                       "%s", sum);
    cr_expect_null(strchr(sum, '\n') ? strchr(strchr(sum, '\n') + 1, '\n') : NULL, "one line: %s", sum);
    free(out);

    char *paths[] = {fx_path("untraced.ngrtrace"), fx_path("stopped.ngrtrace")};
    struct ngr_report rep = fx_analyse_files(paths, 2);
    cr_expect_eq(rep.untraced, 1);
    cr_expect_eq(rep.stopped_early, 1);
    cr_assert_eq(rep.processes, 2);
    cr_expect(rep.procs[0].untraced && !rep.procs[0].stopped_early);
    cr_expect(rep.procs[1].stopped_early && !rep.procs[1].untraced);
    cr_expect_str_eq(rep.procs[0].note, UNTRACED_NOTE);
    cr_expect_str_eq(rep.procs[1].note, STOPPED_NOTE);
    ngr_report_free(&rep);
}
