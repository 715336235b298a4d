/* test_dump.c — `nogilrace dump --json`: the JSON lines the shim and hooks tests rely on (names
 * resolved, lockset replayed, order by seq), and exit status 2 with one line for bad input. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"
#include "tracegen.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/ngr-test-dump.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(dump, .init = setup, .fini = teardown);

/* Reads everything the redirected stream got. */
static char *slurp(FILE *f)
{
    fflush(stdout);
    fflush(stderr);
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    for (;;) {
        size_t r = fread(s + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 == cap)
            s = realloc(s, cap *= 2);
    }
    s[n] = 0;
    return s;
}

static int run_dump(const char *path)
{
    char *argv[] = {"dump", "--json", (char *)path, NULL};
    return ngr_cmd_dump(3, argv);
}

static void write_app_trace(const char *path)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED, "3.13.5t", "python app.py");
    ngr_tg_var(g, 1, NGR_VAR_CONTAINER, "app.cache");
    ngr_tg_key(g, 77, NGR_KEY_STR, "'user:1'");
    ngr_tg_sobj(g, 0x10, NGR_SOBJ_RLOCK, "app.lock");
    ngr_tg_thread_name(g, 2, "worker-1");
    uint32_t st = ngr_tg_stack1(g, "app.py", "fill", 12);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE, 0x10, 0, st);
    ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE, 0x10, 0, st);
    ngr_tg_access(g, 2, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, 1, 77, 0xab, st);
    ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, 0x10, 0, st);
    ngr_tg_access(g, 2, NGR_ACC_CONTAINS, 1, 0, 0xab, st); /* RLock still held once */
    ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, 0x10, 0, st);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    ngr_tg_end(g);
    cr_assert_eq(ngr_tg_write(g, NULL, path), 0);
    ngr_tg_free(g);
}

Test(dump, json_lines_resolve_names_and_locks)
{
    char path[128];
    snprintf(path, sizeof path, "%s/app.ngrtrace", dir);
    write_app_trace(path);
    cr_assert_eq(run_dump(dir), 0); /* a directory stands for its traces */
    char *out = slurp(cr_get_redirected_stdout());
    char want[512];
    snprintf(want, sizeof want, "{\"type\":\"header\",\"file\":\"%s\",", path);
    cr_expect(strstr(out, want), "%s", out);
    cr_expect(strstr(out, "{\"type\":\"process\",\"gil_enabled\":false,\"free_threaded\":true,\"no_hooks\":false,\"version\":\"3.13.5t\",\"cmdline\":\"python app.py\"}\n"), "%s", out);
    cr_expect(strstr(out, "{\"type\":\"access\",\"thread\":2,\"thread_name\":\"worker-1\",\"kind\":\"write\",\"atomic\":true,"
                          "\"var\":\"app.cache\",\"var_kind\":\"container\",\"key\":\"'user:1'\",\"frame\":\"0xab\","
                          "\"locks\":[\"app.lock\"],\"stack\":[{\"file\":\"app.py\",\"line\":12,\"function\":\"fill\"}]}\n"), "%s", out);
    cr_expect(strstr(out, "\"kind\":\"contains\",\"atomic\":false,\"var\":\"app.cache\",\"var_kind\":\"container\",\"key\":null,"
                          "\"frame\":\"0xab\",\"locks\":[\"app.lock\"]"), "%s", out);
    cr_expect(strstr(out, "{\"type\":\"sync\",\"thread\":2,\"thread_name\":\"worker-1\",\"kind\":\"release\",\"obj\":\"app.lock\","
                          "\"obj_kind\":\"rlock\",\"seq\":6,\"count\":0,\"locks\":[],"), "%s", out);
    cr_expect(strstr(out, "{\"type\":\"thread\",\"thread\":1,\"thread_name\":\"MainThread\",\"kind\":\"join\",\"other\":2,\"seq\":8}\n"), "%s", out);
    /* order: spawn (seq 1) before the child's begin (seq 2); join last before end */
    char *spawn = strstr(out, "\"kind\":\"spawn\""), *begin = strstr(out, "\"kind\":\"begin\"");
    char *join = strstr(out, "\"kind\":\"join\""), *end = strstr(out, "{\"type\":\"end\",\"events\":");
    cr_assert(spawn && begin && join && end);
    cr_expect(spawn < begin && begin < join && join < end);
    free(out);
}

Test(dump, corrupt_file_is_one_line_and_status_2)
{
    char path[128];
    snprintf(path, sizeof path, "%s/bad.ngrtrace", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("this is not a trace at all", f);
    fclose(f);
    cr_assert_eq(run_dump(path), 2);
    char *err = slurp(cr_get_redirected_stderr());
    char want[256];
    snprintf(want, sizeof want, "nogilrace: %s: byte 0: not a nogilrace trace (bad magic)\n", path);
    cr_expect_str_eq(err, want);
    free(err);
}

Test(dump, truncated_file_warns_and_reads_what_is_there)
{
    char path[128];
    snprintf(path, sizeof path, "%s/app.ngrtrace", dir);
    write_app_trace(path);
    cr_assert_eq(truncate(path, 4096 + 4096 + 32 + 6 * 32 + 5), 0); /* metadata chunk, then cut in stream 1/2 */
    cr_assert_eq(run_dump(path), 0);
    char *err = slurp(cr_get_redirected_stderr());
    cr_expect(strstr(err, "trace truncated at byte"), "%s", err);
    char *out = slurp(cr_get_redirected_stdout());
    cr_expect(strstr(out, "{\"type\":\"header\""), "%s", out);
    free(err);
    free(out);
}

Test(dump, missing_path_is_status_2)
{
    char path[128];
    snprintf(path, sizeof path, "%s/nope.ngrtrace", dir);
    cr_assert_eq(run_dump(path), 2);
    char *err = slurp(cr_get_redirected_stderr());
    cr_expect(strstr(err, "No such file or directory"), "%s", err);
    free(err);
}
