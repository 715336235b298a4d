/* report_fixture.h — helpers shared by the tests of `nogilrace report` on trace files
 * (test_report.c, test_hostile_input.c): a fresh directory per test (stdout redirected), paths in
 * it, a racy or clean trace written there, the report command with up to three arguments, and
 * ngr_analyze_files on a list of paths.  Not a test itself. */
#ifndef NGR_TEST_REPORT_FIXTURE_H
#define NGR_TEST_REPORT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analysis_fixture.h"
#include "report.h"

static char FX_DIR[64];

/* .init and .fini of a suite */
static inline void fx_dir_init(void)
{
    snprintf(FX_DIR, sizeof FX_DIR, "/tmp/ngr-test-report-XXXXXX");
    cr_assert_not_null(mkdtemp(FX_DIR));
    cr_redirect_stdout();
}

static inline void fx_dir_fini(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", FX_DIR);
    cr_expect_eq(system(cmd), 0);
}

/* FX_DIR/name; the last 8 results stay valid. */
static inline char *fx_path(const char *name)
{
    static char buf[8][160];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 160, "%s/%s", FX_DIR, name);
    return p;
}

/* A trace with a lost update on app.x by worker-0 and worker-1 (racy) or the same updates under
 * app.lock (clean), in chunks of chunk_size bytes. */
static inline void fx_write_trace(const char *name, bool racy, const struct ngr_tg_opts *o, uint32_t chunk_size)
{
    struct ngr_tg *g = fx_new_chunks(chunk_size);
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    fx_rmw(g, 2, X, 0, 0x20, s, racy ? 0 : L1);
    fx_rmw(g, 3, X, 0, 0x30, s, racy ? 0 : L1);
    fx_finish2(g);
    cr_assert_eq(ngr_tg_write(g, o, fx_path(name)), 0);
    ngr_tg_free(g);
}

/* `nogilrace report a1 a2 a3` (NULLs end the list); its exit status. */
static inline int fx_report(const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"report", (char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    return ngr_cmd_report(argc, argv);
}

/* The same, with what it printed on stdout (a fresh heap string) and its status in *rc. */
static inline char *fx_report_output(const char *a1, const char *a2, const char *a3, int *rc)
{
    fflush(stdout);
    int saved = dup(1);
    FILE *cap = tmpfile();
    cr_assert(saved >= 0 && cap);
    dup2(fileno(cap), 1);
    *rc = fx_report(a1, a2, a3);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    long n = ftell(cap);
    cr_assert_geq(n, 0);
    char *out = calloc(1, (size_t)n + 1);
    rewind(cap);
    cr_assert_eq(fread(out, 1, (size_t)n, cap), (size_t)n);
    fclose(cap);
    return out;
}

/* ngr_analyze_files on the n paths, which must succeed; the caller frees the report. */
static inline struct ngr_report fx_analyse_files(char **paths, size_t n)
{
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512];
    cr_assert_eq(ngr_analyze_files(paths, n, &rep, NULL, err, sizeof err), 0, "%s", err);
    return rep;
}

#endif
