/* test_merge.c — reports of many runs as one (issue #15): a JSON report reads back as what was
 * written (json_read.c, report_read.c), bad documents are one line with the byte offset and the
 * field, findings of several runs merge by id with their runs counted and tests united
 * (merge.c), and a baseline marks the known ones and writes the updated baseline (baseline.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "baseline.h"
#include "groups.h"
#include "json_read.h"
#include "merge.h"
#include "output.h"
#include "report_read.h"
#include "test_output_helpers.h"

static struct ngr_report A, B;
static char ERR[1024];
static void fini(void)
{
    ngr_report_free(&A);
    ngr_report_free(&B);
}
TestSuite(merge, .fini = fini);

static const struct fx_frame F1[] = {{"/src/app.py", 12, "work"}, {"/src/app.py", 30, "main"}};
static const char *const LOCKS[] = {"app.lock"};

static void set_tests(struct ngr_finding *f, const char *const *t, size_t n)
{
    f->tests = ngr_xcalloc(n, sizeof *f->tests);
    for (size_t i = 0; i < n; i++)
        f->tests[f->ntests++] = ngr_xstrdup(t[i]);
}

/* A report as the analysis would give it: facts, two findings with everything filled in. */
static void sample(struct ngr_report *r)
{
    memset(r, 0, sizeof *r);
    r->python_version = ngr_xstrdup("3.13.5 experimental free-threading build");
    r->free_threaded = true;
    r->processes = 1;
    r->events = 777;
    r->procs = ngr_xcalloc(1, sizeof *r->procs);
    r->procs[0] = (struct ngr_process_info){.trace = ngr_xstrdup("tr/a.ngrtrace"), .pid = 10, .ppid = 9,
                                            .cmdline = ngr_xstrdup("python -m pytest"), .finished = true, .events = 777};
    r->nwarnings = 1;
    r->warnings = ngr_xcalloc(1, sizeof *r->warnings);
    r->warnings[0] = ngr_xstrdup("tr/b.ngrtrace: trace incomplete \"quoted\"\n");
    r->suppressed = 3;
    r->runs = 1;
    struct ngr_finding *f = fx_add(r, "NGR-0123456789ab", NGR_FK_LOST_UPDATE, true, "app.counter", NULL, 41);
    fx_access(f, 0, "read", 3, "worker-1", LOCKS, 1, F1, 2);
    fx_access(f, 1, "write", 2, "worker-0 \xc3\xa9\t", NULL, 0, F1, 1);
    f->access[0].test = ngr_xstrdup("tests/test_app.py::test_count[\xe2\x9c\x93]");
    f->access[0].phase = ngr_xstrdup("call");
    static const char *const t[] = {"tests/test_app.py::test_count[\xe2\x9c\x93]", "tests/test_app.py::test_z"};
    set_tests(f, t, 2);
    f->tests_more = 4;
    f->runs = 1;
    struct ngr_finding *g = fx_add(r, "NGR-ba9876543210", NGR_FK_CHECK_THEN_ACT, false, "app.cache", "'k\"1'", 2);
    fx_access(g, 0, "contains", 2, NULL, NULL, 0, F1, 1);
    fx_access(g, 1, "write", 3, "w", NULL, 0, F1, 0);
    g->runs = 1;
}

static void write_json(const struct ngr_report *r, char **buf, size_t *len)
{
    FILE *f = open_memstream(buf, len);
    struct ngr_output_opts o = {.tool_version = "0.1.0"};
    cr_assert_eq(ngr_output_json(f, r, &o), 0);
    fclose(f);
}

static void expect_access_eq(const struct ngr_access_info *x, const struct ngr_access_info *y)
{
    cr_expect_str_eq(x->op, y->op);
    cr_expect_eq(x->atomic, y->atomic);
    cr_expect_eq(x->pid, y->pid);
    cr_expect_eq(x->thread, y->thread);
    cr_expect_str_eq(x->thread_name ? x->thread_name : "", y->thread_name ? y->thread_name : "");
    cr_assert_eq(x->nlocks, y->nlocks);
    for (size_t i = 0; i < x->nlocks; i++)
        cr_expect_str_eq(x->locks[i], y->locks[i]);
    cr_assert_eq(x->depth, y->depth);
    for (size_t i = 0; i < x->depth; i++) {
        cr_expect_str_eq(x->stack[i].file, y->stack[i].file);
        cr_expect_eq(x->stack[i].line, y->stack[i].line);
        cr_expect_str_eq(x->stack[i].function, y->stack[i].function);
    }
    cr_expect_eq(!x->test, !y->test);
    if (x->test && y->test)
        cr_expect_str_eq(x->test, y->test);
    cr_expect_eq(!x->phase, !y->phase);
}

/* What the JSON output writes, the reader gives back. */
Test(merge, json_report_reads_back)
{
    sample(&A);
    char *buf;
    size_t len;
    write_json(&A, &buf, &len);
    cr_assert_eq(ngr_report_read_json_mem("r.json", buf, len, &B, ERR, sizeof ERR), 0, "%s", ERR);
    free(buf);
    cr_expect_str_eq(B.python_version, A.python_version);
    cr_expect_eq(B.free_threaded, true);
    cr_expect_eq(B.events, 777);
    cr_expect_eq(B.suppressed, 3);
    cr_expect_eq(B.runs, 1);
    cr_assert_eq(B.processes, 1);
    cr_expect_str_eq(B.procs[0].trace, "tr/a.ngrtrace");
    cr_expect_str_eq(B.procs[0].cmdline, "python -m pytest");
    cr_assert_eq(B.nwarnings, 1);
    cr_expect_str_eq(B.warnings[0], A.warnings[0]);
    cr_assert_eq(B.nfindings, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct ngr_finding *x = &A.findings[i], *y = &B.findings[i];
        cr_expect_str_eq(y->id, x->id);
        cr_expect_eq(y->kind, x->kind);
        cr_expect_eq(y->observed, x->observed);
        cr_expect_eq(y->severity, x->severity);
        cr_expect_str_eq(y->variable, x->variable);
        cr_expect_str_eq(y->var_name, x->var_name);
        cr_expect_eq(!y->key, !x->key);
        if (x->key)
            cr_expect_str_eq(y->key, x->key);
        cr_expect_eq(y->count, x->count);
        cr_expect_str_eq(y->message, x->message);
        cr_assert_eq(y->ntests, x->ntests);
        for (size_t t = 0; t < x->ntests; t++)
            cr_expect_str_eq(y->tests[t], x->tests[t]);
        cr_expect_eq(y->tests_more, x->tests_more);
        cr_expect_eq(y->runs, 1);
        expect_access_eq(&x->access[0], &y->access[0]);
        expect_access_eq(&x->access[1], &y->access[1]);
    }
}

/* A race seen at several site pairs keeps them: the representative in full, the others by their
 * sites, as the document holds them; merged with itself, the pairs stay two. */
Test(merge, pairs_read_back)
{
    memset(&A, 0, sizeof A);
    struct ngr_finding *f = fx_add(&A, "NGR-00000000abcd", NGR_FK_LOST_UPDATE, false, "app.cache", NULL, 0);
    fx_add_pair(f, "NGR-000000000001", true, 5, "'a'", "/src/app.py", 30, "bump", 31, "bump");
    fx_add_pair(f, "NGR-000000000002", false, 2, "'b'", "/src/app.py", 40, "reset", 41, "reset");
    f->objects = 3;
    f->keys = 7;
    ngr_group_settle(f);
    char *buf;
    size_t len;
    write_json(&A, &buf, &len);
    cr_assert_eq(ngr_report_read_json_mem("r.json", buf, len, &B, ERR, sizeof ERR), 0, "%s", ERR);
    const struct ngr_finding *g = &B.findings[0];
    cr_assert_eq(g->npairs, 2);
    cr_expect_str_eq(g->pairs[0].id, "NGR-000000000001");
    cr_expect_str_eq(g->pairs[0].access[0].thread_name, "worker-0");
    cr_expect_str_eq(g->pairs[1].id, "NGR-000000000002");
    cr_assert_eq(g->pairs[1].access[1].depth, 1);
    cr_expect_eq(g->pairs[1].access[1].stack[0].line, 41);
    cr_expect_str_eq(g->pairs[1].access[1].stack[0].function, "reset");
    cr_expect_eq(g->count, 7);
    cr_expect_eq(g->objects, 3);
    cr_expect_eq(g->keys, 7);
    struct ngr_report again;
    cr_assert_eq(ngr_report_read_json_mem("r.json", buf, len, &again, ERR, sizeof ERR), 0, "%s", ERR);
    free(buf);
    ngr_report_absorb(&B, &again);
    ngr_report_free(&again);
    cr_expect_eq(B.nfindings, 1);
    cr_expect_eq(B.findings[0].npairs, 2);
    cr_expect_eq(B.findings[0].count, 14);
    cr_expect_eq(B.findings[0].runs, 2);
}

static void expect_bad(const char *doc, const char *want1, const char *want2)
{
    struct ngr_report r;
    cr_assert_eq(ngr_report_read_json_mem("bad.json", doc, strlen(doc), &r, ERR, sizeof ERR), -1, "accepted: %s", doc);
    cr_expect(strstr(ERR, want1) && (!want2 || strstr(ERR, want2)), "for %s: %s", doc, ERR);
    cr_expect(!strchr(ERR, '\n'), "one line: %s", ERR);
    cr_expect_eq(r.nfindings, 0);
}

#define HEAD "{\"tool\":{\"name\":\"nogilrace\"},\"version\":4,"
#define ACC "{\"op\":\"read\",\"atomic\":false,\"pid\":1,\"thread\":1,\"thread_name\":null,\"locks\":[],\"stack\":[]}"

/* Broken documents: one line naming the file, the byte and, past the syntax, the field. */
Test(merge, bad_documents_say_where)
{
    expect_bad("", "bad.json: byte 0: expected a value", NULL);
    expect_bad("{\"a\": [1, 2", "bad.json: byte 11:", "expected ',' or ']'");
    expect_bad("{\"a\": \"x\x01\"}", "byte 8: control character 0x01", NULL);
    expect_bad("{\"a\": \"\\q\"}", "byte 7: unknown escape", NULL);
    expect_bad("{} x", "byte 3: expected the end of the document", NULL);
    expect_bad("[1]", "expected a nogilrace JSON report (an object)", NULL);
    expect_bad("{\"version\":1,\"races\":[]}", "not a nogilrace JSON report", NULL);
    expect_bad(HEAD "\"races\":{}}", "races: expected an array, found an object", NULL);
    expect_bad("{\"tool\":{\"name\":\"nogilrace\"},\"version\":2,\"races\":[]}",
               "byte 39: version: a version 2 report: its ids name single site pairs", NULL);
    expect_bad(HEAD "\"races\":[{\"id\":\"NGR-12\"}]}", "byte 56: races[0].id: expected NGR- and 12 hex digits", NULL);
    expect_bad(HEAD "\"races\":[{\"id\":\"NGR-0123456789ab\",\"kind\":\"lost-update\",\"observed\":true,\"variable\":\"v\","
                    "\"count\":1,\"accesses\":[" ACC "]}]}",
               "races[0].accesses: expected an array of 2 accesses, found 1", NULL);
    expect_bad(HEAD "\"races\":[{\"id\":\"NGR-0123456789ab\",\"kind\":\"lost-update\",\"observed\":true,\"variable\":\"v\","
                    "\"count\":-1,\"accesses\":[" ACC "," ACC "]}]}",
               "races[0].count: expected a whole number", NULL);
    expect_bad(HEAD "\"races\":[{\"id\":\"NGR-0123456789ab\",\"kind\":\"lost-update\",\"observed\":true,\"variable\":\"v\","
                    "\"count\":1,\"accesses\":[" ACC ",{\"op\":\"read\"}]}]}",
               "races[0].accesses[1].atomic: missing", NULL);
    char deep[300];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    expect_bad(deep, "nested deeper than 64 levels", NULL);
}

/* \u escapes: pairs become one character, a lone surrogate or \u0000 becomes U+FFFD; a byte
 * order mark is allowed. */
Test(merge, string_escapes)
{
    const char doc[] = "\xef\xbb\xbf{\"s\": \"a\\u00e9\\ud83d\\ude00\\ud800x\\u0000\\n\"}";
    struct ngr_jv v;
    cr_assert_eq(ngr_json_parse(doc, sizeof doc - 1, &v, ERR, sizeof ERR), 0, "%s", ERR);
    const struct ngr_jv *s = ngr_jv_get(&v, "s");
    cr_assert_not_null(s);
    cr_expect_str_eq(s->str, "a\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd\n");
    ngr_jv_free(&v);
}

/* Two runs: counts add, each finding counts the runs it was in, tests unite sorted and capped,
 * the observed instance is the one kept. */
Test(merge, runs_are_counted_and_tests_united)
{
    memset(&A, 0, sizeof A);
    struct ngr_report r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    r1.runs = r2.runs = 1;
    struct ngr_finding *f = fx_add(&r1, "NGR-000000000001", NGR_FK_LOST_UPDATE, false, "app.n", NULL, 5);
    static const char *const t1[] = {"t::b", "t::d"};
    set_tests(f, t1, 2);
    f->access[0].thread_name = ngr_xstrdup("potential-one");
    fx_add(&r1, "NGR-000000000002", NGR_FK_UNPROTECTED_WRITE, true, "app.only1", NULL, 1);
    struct ngr_finding *g = fx_add(&r2, "NGR-000000000001", NGR_FK_LOST_UPDATE, true, "app.n", NULL, 7);
    static const char *const t2[] = {"t::a", "t::b", "t::c"};
    set_tests(g, t2, 3);
    g->access[0].thread_name = ngr_xstrdup("observed-one");
    ngr_report_absorb(&A, &r1);
    ngr_report_absorb(&A, &r2);
    ngr_report_free(&r1);
    ngr_report_free(&r2);
    ngr_report_sort(&A);
    cr_expect_eq(A.runs, 2);
    const struct ngr_finding *n = ngr_report_find_maybe(&A, "NGR-000000000001");
    cr_assert_not_null(n);
    cr_expect_eq(n->count, 12);
    cr_expect_eq(n->runs, 2);
    cr_expect(n->observed);
    cr_expect_str_eq(n->access[0].thread_name, "observed-one");
    cr_assert_eq(n->ntests, 4);
    const char *want[] = {"t::a", "t::b", "t::c", "t::d"};
    for (int i = 0; i < 4; i++)
        cr_expect_str_eq(n->tests[i], want[i]);
    const struct ngr_finding *o = ngr_report_find_maybe(&A, "NGR-000000000002");
    cr_assert_not_null(o);
    cr_expect_eq(o->runs, 1);

    /* a finding seen in more tests than are listed keeps counting the rest */
    struct ngr_report r3;
    memset(&r3, 0, sizeof r3);
    struct ngr_finding *h = fx_add(&r3, "NGR-000000000001", NGR_FK_LOST_UPDATE, true, "app.n", NULL, 1);
    h->tests = ngr_xcalloc(NGR_MAX_TESTS, sizeof *h->tests);
    for (int i = 0; i < NGR_MAX_TESTS; i++)
        h->tests[h->ntests++] = ngr_xasprintf("u::%02d", i);
    ngr_report_absorb(&A, &r3);
    ngr_report_free(&r3);
    n = ngr_report_find_maybe(&A, "NGR-000000000001");
    cr_expect_eq(n->ntests, NGR_MAX_TESTS);
    cr_expect_eq(n->tests_more, 4);
    cr_expect_eq(n->runs, 3);
    cr_expect_eq(A.runs, 3);
}

/* A baseline marks what it knows; the updated baseline holds this run's findings and the
 * baseline's that did not show up. */
Test(merge, baseline_marks_known_and_writes_the_union)
{
    char dir[] = "/tmp/ngr-merge-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *old = ngr_xasprintf("%s/old.json", dir), *upd = ngr_xasprintf("%s/new.json", dir);
    memset(&B, 0, sizeof B);
    fx_add(&B, "NGR-00000000000a", NGR_FK_LOST_UPDATE, true, "app.known", NULL, 1);
    fx_add(&B, "NGR-00000000000b", NGR_FK_LOST_UPDATE, true, "app.gone", NULL, 1);
    FILE *f = fopen(old, "w");
    struct ngr_output_opts oo = {.tool_version = "0.1.0"};
    cr_assert_eq(ngr_output_json(f, &B, &oo), 0);
    fclose(f);
    struct ngr_baseline *b = ngr_baseline_load(old, ERR, sizeof ERR);
    cr_assert_not_null(b, "%s", ERR);
    memset(&A, 0, sizeof A);
    fx_add(&A, "NGR-00000000000a", NGR_FK_LOST_UPDATE, true, "app.known", NULL, 1);
    fx_add(&A, "NGR-00000000000c", NGR_FK_CHECK_THEN_ACT, true, "app.new", NULL, 1);
    ngr_baseline_apply(b, &A);
    cr_expect_eq(A.known, 1);
    cr_expect(A.findings[0].in_baseline);
    cr_expect(!A.findings[1].in_baseline);
    cr_expect_str_eq(A.baseline, old);
    cr_assert_eq(ngr_baseline_write(upd, &A, b, &oo, ERR, sizeof ERR), 0, "%s", ERR);
    ngr_baseline_free(b);
    A.baseline = NULL;
    struct ngr_report u;
    cr_assert_eq(ngr_report_read_json(upd, &u, ERR, sizeof ERR), 0, "%s", ERR);
    cr_expect_eq(u.nfindings, 3);
    cr_expect_not_null(ngr_report_find_maybe(&u, "NGR-00000000000a"));
    cr_expect_not_null(ngr_report_find_maybe(&u, "NGR-00000000000b"));
    cr_expect_not_null(ngr_report_find_maybe(&u, "NGR-00000000000c"));
    ngr_report_free(&u);
    /* a baseline that is not a report is one line naming it */
    f = fopen(old, "w");
    fputs("{\"tool\": {\"name\": \"nogilrace\"}, \"version\": 2, \"races\": [1", f);
    fclose(f);
    cr_expect_null(ngr_baseline_load(old, ERR, sizeof ERR));
    cr_expect(strstr(ERR, "--baseline: ") && strstr(ERR, old) && strstr(ERR, "byte "), "%s", ERR);
    unlink(old);
    unlink(upd);
    rmdir(dir);
    free(old);
    free(upd);
}
