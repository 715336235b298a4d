/* test_spans.c — which test a finding's accesses ran in (MARK records, spans.c): an access belongs
 * to the span active in its thread, a thread spawned inside a span inherits it, a worker that
 * marks nothing itself takes the span of the task it received, and marks never change what is
 * found. */
#include <inttypes.h>

#include "analysis_fixture.h"

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(spans, .fini = fini);

static void mark(struct ngr_tg *g, uint32_t thread, uint32_t label, unsigned phase, bool begin)
{
    uint64_t w = ngr_word0(NGR_OP_MARK, 1, phase | (begin ? NGR_MARK_BEGIN : 0), label);
    ngr_tg_raw(g, thread, &w, 1);
}

static bool has_test(const struct ngr_finding *f, const char *test)
{
    for (size_t i = 0; i < f->ntests; i++)
        if (!strcmp(f->tests[i], test))
            return true;
    return false;
}

/* The call of test `label` in main: it starts threads t1 and t2, which race on x, and joins them. */
static void racing_call(struct ngr_tg *g, uint32_t label, uint32_t t1, uint32_t t2, uint32_t stack)
{
    const uint32_t ts[2] = {t1, t2};
    mark(g, 1, label, NGR_MARK_CALL, true);
    for (int i = 0; i < 2; i++) {
        ngr_tg_thread(g, 1, NGR_THR_SPAWN, ts[i], 0);
        ngr_tg_thread(g, ts[i], NGR_THR_BEGIN, 1, 0);
    }
    fx_rmw(g, t1, X, 0, 0x100 * t1 + 1, stack, 0);
    fx_rmw(g, t2, X, 0, 0x100 * t2 + 1, stack, 0);
    fx_rmw(g, t1, X, 0, 0x100 * t1 + 2, stack, 0);
    for (int i = 0; i < 2; i++)
        ngr_tg_thread(g, ts[i], NGR_THR_END, 0, 0);
    for (int i = 0; i < 2; i++)
        ngr_tg_thread(g, 1, NGR_THR_JOIN, ts[i], 0);
    mark(g, 1, label, NGR_MARK_CALL, false);
}

/* main marks test_a's call, starts two workers inside it that race on x: the finding is test_a's,
 * and so is each access (phase call); a second test spawning racing threads adds its id. */
Test(spans, spawned_threads_inherit_the_test)
{
    struct ngr_tg *g = fx_new();
    uint32_t a = ngr_tg_string(g, "tests/test_x.py::test_a"), b = ngr_tg_string(g, "tests/test_x.py::test_b");
    uint32_t s = fx_at(g, "bump", 5);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    mark(g, 1, a, NGR_MARK_SETUP, true);
    mark(g, 1, a, NGR_MARK_SETUP, false);
    racing_call(g, a, 2, 3, s);
    racing_call(g, b, 4, 5, s);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_eq(f->ntests, 2, "tests: %zu", f->ntests);
    cr_expect(has_test(f, "tests/test_x.py::test_a"));
    cr_expect(has_test(f, "tests/test_x.py::test_b"));
    for (int i = 0; i < 2; i++) {
        cr_assert_not_null(f->access[i].test);
        cr_expect(!strcmp(f->access[i].test, "tests/test_x.py::test_a") ||
                  !strcmp(f->access[i].test, "tests/test_x.py::test_b"), "%s", f->access[i].test);
        cr_assert_not_null(f->access[i].phase);
        cr_expect_str_eq(f->access[i].phase, "call");
    }
}

/* Threads started before any test ran, and accesses outside every span, name no test. */
Test(spans, accesses_outside_spans_name_no_test)
{
    struct ngr_tg *g = fx_new();
    uint32_t a = ngr_tg_string(g, "test_a");
    uint32_t s = fx_at(g, "bump", 5);
    fx_start2(g);
    mark(g, 1, a, NGR_MARK_CALL, true);
    mark(g, 1, a, NGR_MARK_CALL, false);
    fx_rmw(g, 2, X, 0, 0x21, s, 0);
    fx_rmw(g, 3, X, 0, 0x31, s, 0);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_eq(f->ntests, 0);
    cr_expect_null(f->access[0].test);
    cr_expect_null(f->access[1].test);
}

/* A thread's own accesses before, inside and after its span: only the ones inside name it; the
 * race between the worker's access in test_a and main's access after the span names test_a only. */
Test(spans, a_span_covers_exactly_its_accesses)
{
    struct ngr_tg *g = fx_new();
    uint32_t a = ngr_tg_string(g, "test_a");
    uint32_t s = fx_at(g, "bump", 5), w = fx_at(g, "store", 9);
    fx_start2(g);
    mark(g, 2, a, NGR_MARK_CALL, true);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, Y, 0, 0x21, w);
    mark(g, 2, a, NGR_MARK_CALL, false);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, Y, 0, 0x31, w);
    fx_rmw(g, 2, X, 0, 0x22, s, 0); /* after test_a ended in thread 2 */
    fx_rmw(g, 3, X, 0, 0x32, s, 0);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *fy = fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.y");
    cr_assert_not_null(fy, "found %s", fx_list(&R));
    cr_expect_eq(fy->ntests, 1);
    cr_expect(has_test(fy, "test_a"));
    const struct ngr_finding *fx = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(fx, "found %s", fx_list(&R));
    cr_expect_eq(fx->ntests, 0, "the x race ran after the span: %zu tests", fx->ntests);
}

/* A pool worker started outside any test gets its task through a queue from test_b's call: its
 * accesses for that task are test_b's. */
Test(spans, a_worker_takes_the_span_of_its_task)
{
    struct ngr_tg *g = fx_new();
    uint32_t b = ngr_tg_string(g, "test_b");
    uint32_t s = fx_at(g, "bump", 5);
    fx_start2(g);
    mark(g, 1, b, NGR_MARK_CALL, true);
    ngr_tg_sync(g, 1, NGR_SYNC_SEND, Q, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_SEND, Q, 0, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_RECV, Q, 0, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_RECV, Q, 0, 0);
    fx_rmw(g, 2, X, 0, 0x21, s, 0);
    fx_rmw(g, 3, X, 0, 0x31, s, 0);
    mark(g, 1, b, NGR_MARK_CALL, false);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_eq(f->ntests, 1);
    cr_expect(has_test(f, "test_b"));
}

/* Marks move clocks on; they must not move anything else: the same events with and without
 * marks in every thread give the same findings (ids, kinds, observed, counts). */
static struct ngr_report scenario(bool marked)
{
    struct ngr_tg *g = fx_new();
    uint32_t a = ngr_tg_string(g, "test_a");
    uint32_t s = fx_at(g, "bump", 5), c = fx_at(g, "get", 16), w = fx_at(g, "get", 17);
    fx_start2(g);
    for (uint32_t t = 1; t <= 3; t++)
        if (marked)
            mark(g, t, a, NGR_MARK_CALL, true);
    fx_rmw(g, 1, X, 0, 0x11, s, 0); /* before the send: ordered before the receivers */
    ngr_tg_sync(g, 1, NGR_SYNC_SEND, Q, 0, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_RECV, Q, 0, 0);
    fx_rmw(g, 2, X, 0, 0x21, s, L1);
    if (marked)
        mark(g, 2, a, NGR_MARK_CALL, false);
    fx_rmw(g, 3, X, 0, 0x31, s, 0);
    ngr_tg_access(g, 3, NGR_ACC_READ, Y, 0, 0x32, c);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, Y, 0, 0x32, w);
    ngr_tg_access(g, 2, NGR_ACC_READ, Y, 0, 0x22, c);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, Y, 0, 0x22, w);
    fx_finish2(g);
    return fx_analyse(g);
}

Test(spans, marks_change_no_finding)
{
    struct ngr_report plain = scenario(false);
    R = scenario(true);
    cr_assert_gt(plain.nfindings, 0);
    cr_assert_eq(R.nfindings, plain.nfindings, "marked: %s", fx_list(&R));
    for (size_t i = 0; i < R.nfindings; i++) {
        cr_expect_str_eq(R.findings[i].id, plain.findings[i].id);
        cr_expect_eq(R.findings[i].kind, plain.findings[i].kind);
        cr_expect_eq(R.findings[i].observed, plain.findings[i].observed);
        cr_expect_eq(R.findings[i].count, plain.findings[i].count);
    }
    ngr_report_free(&plain);
}

/* A race met in more tests than a finding lists: the first NGR_MAX_TESTS by name, the rest
 * counted exactly (each test once, however often it met the race). */
Test(spans, many_tests_are_counted)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "bump", 5);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    enum { TESTS = NGR_MAX_TESTS + 8 };
    for (uint32_t i = 0; i < TESTS; i++) {
        char name[32];
        snprintf(name, sizeof name, "t::test_%02u", i);
        uint32_t label = ngr_tg_string(g, name);
        racing_call(g, label, 2 + 2 * i, 3 + 2 * i, s);
        racing_call(g, label, 200 + 2 * i, 201 + 2 * i, s); /* the same test twice */
    }
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_eq(f->ntests, NGR_MAX_TESTS);
    cr_expect_eq(f->tests_more, 8, "tests_more %" PRIu64, f->tests_more);
    cr_expect_str_eq(f->tests[0], "t::test_00");
    cr_expect_str_eq(f->tests[NGR_MAX_TESTS - 1], "t::test_31");
}
