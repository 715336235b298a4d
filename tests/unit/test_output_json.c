/* test_output_json.c — `report --format=json`: the document parses back, has every field
 * docs/json-schema.md promises with the values of the report, and survives any bytes in names. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "output.h"
#include "test_output_helpers.h"

static struct ngr_report R;
static struct mj *DOC;
static char *BUF;
static size_t LEN;

static void teardown(void)
{
    ngr_report_free(&R);
    mj_free(DOC);
    DOC = NULL;
    free(BUF);
    BUF = NULL;
}

TestSuite(output_json, .fini = teardown);

static const struct mj *render(void)
{
    FILE *f = open_memstream(&BUF, &LEN);
    struct ngr_output_opts o = {.tool_version = "9.8.7"};
    cr_assert_eq(ngr_output_json(f, &R, &o), 0);
    fclose(f);
    cr_assert(LEN > 0 && BUF[LEN - 1] == '\n', "document ends with a newline");
    const char *err = NULL;
    DOC = mj_parse(BUF, LEN, &err);
    cr_assert(DOC, "not JSON (%s):\n%s", err, BUF);
    return DOC;
}

static void run_facts(void)
{
    R.python_version = ngr_xstrdup("3.13.5 experimental free-threading build");
    R.free_threaded = true;
    R.gil_enabled = true;
    R.processes = 1;
    R.events = 12345;
    R.procs = ngr_xcalloc(1, sizeof *R.procs);
    R.procs[0] = (struct ngr_process_info){.trace = ngr_xstrdup("/t/a.ngrtrace"), .pid = 10, .ppid = 9,
                                           .cmdline = ngr_xstrdup("python app.py"), .finished = true, .events = 12345,
                                           .stopped_early = true};
    R.stopped_early = 1;
    R.traces_no_header = 2;
    R.traces_unreadable = 1;
    R.ngil_notes = 2;
    R.gil_notes = ngr_xcalloc(2, sizeof *R.gil_notes);
    R.gil_notes[0] = (struct ngr_gil_note){ngr_xstrdup("legacy_ext"), true, 10};
    R.gil_notes[1] = (struct ngr_gil_note){ngr_xstrdup("other_ext"), false, 10};
    R.nwarnings = 1;
    R.warnings = ngr_xcalloc(1, sizeof *R.warnings);
    R.warnings[0] = ngr_xstrdup("/t/a.ngrtrace: trace incomplete");
    R.suppressed = 3;
}

Test(output_json, top_level_fields)
{
    run_facts();
    fx_add(&R, "NGR-000000000001", NGR_FK_LOST_UPDATE, true, "app.counter", NULL, 7);
    fx_add(&R, "NGR-000000000002", NGR_FK_CHECK_THEN_ACT, false, "app.cache", "'user:1'", 1);
    const struct mj *d = render();
    cr_assert_eq(d->t, MJ_OBJ);
    cr_expect_eq(mj_num(d, "version"), NGR_JSON_SCHEMA_VERSION);
    cr_expect_str_eq(mj_str(d, "tool.name"), "nogilrace");
    cr_expect_str_eq(mj_str(d, "tool.version"), "9.8.7");
    cr_expect_str_eq(mj_str(d, "python"), "3.13.5 experimental free-threading build");
    cr_expect_eq(mj_bool(d, "gil_enabled"), 1);
    cr_expect_eq(mj_bool(d, "free_threaded"), 1);
    cr_expect_eq(mj_len(d, "gil_enabled_by"), 1, "only modules that enabled the GIL");
    cr_expect_str_eq(mj_str(d, "gil_enabled_by.0"), "legacy_ext");
    cr_expect_eq(mj_num(d, "processes"), 1);
    cr_expect_eq(mj_num(d, "events"), 12345);
    cr_expect_str_eq(mj_str(d, "traces.0.file"), "/t/a.ngrtrace");
    cr_expect_eq(mj_num(d, "traces.0.pid"), 10);
    cr_expect_eq(mj_num(d, "traces.0.ppid"), 9);
    cr_expect_str_eq(mj_str(d, "traces.0.cmdline"), "python app.py");
    cr_expect_eq(mj_bool(d, "traces.0.finished"), 1);
    cr_expect_eq(mj_num(d, "traces.0.events"), 12345);
    cr_expect_eq(mj_bool(d, "traces.0.untraced"), 0);
    cr_expect_eq(mj_bool(d, "traces.0.stopped_early"), 1);
    cr_expect_eq(mj_num(d, "summary.untraced"), 0);
    cr_expect_eq(mj_num(d, "summary.stopped_early"), 1);
    cr_expect_eq(mj_num(d, "summary.traces_without_header"), 2);
    cr_expect_eq(mj_num(d, "summary.traces_unreadable"), 1);
    cr_expect_str_eq(mj_str(d, "warnings.0"), "/t/a.ngrtrace: trace incomplete");
    cr_expect_eq(mj_num(d, "summary.races"), 2);
    cr_expect_eq(mj_num(d, "summary.observed"), 1);
    cr_expect_eq(mj_num(d, "summary.potential"), 1);
    cr_expect_eq(mj_num(d, "summary.suppressed"), 3);
    cr_expect_eq(mj_len(d, "races"), 2);
}

Test(output_json, race_fields)
{
    struct ngr_finding *f = fx_add(&R, "NGR-0123456789ab", NGR_FK_CHECK_THEN_ACT, true, "app.cache", "'user:1'", 42);
    const char *locks[] = {"app.lock", "<lock created at app.py:12>"};
    struct fx_frame st0[] = {{"/src/app.py", 20, "Registry.get"}, {"/src/app.py", 40, "main"}};
    struct fx_frame st1[] = {{"/src/app.py", 22, "Registry.get"}};
    fx_access(f, 0, "contains", 2, "worker-1", locks, 2, st0, 2);
    fx_access(f, 1, "write", 3, "worker-2", NULL, 0, st1, 1);
    f->access[1].atomic = true;
    f->access[1].nnative = 1;
    f->access[1].native_stack = ngr_xcalloc(1, sizeof(char *));
    f->access[1].native_stack[0] = ngr_xstrdup("PyDict_SetItem+0x12");
    const struct mj *d = render();
    const struct mj *r = mj_at(d, "races.0");
    cr_assert(r);
    cr_expect_str_eq(mj_str(r, "id"), "NGR-0123456789ab");
    cr_expect_str_eq(mj_str(r, "kind"), "check-then-act");
    cr_expect_str_eq(mj_str(r, "severity"), "error");
    cr_expect_str_eq(mj_str(r, "variable"), "app.cache['user:1']");
    cr_expect_str_eq(mj_str(r, "var_name"), "app.cache");
    cr_expect_str_eq(mj_str(r, "key"), "'user:1'");
    cr_expect_str_eq(mj_str(r, "var_kind"), "container");
    cr_expect_eq(mj_bool(r, "observed"), 1);
    cr_expect_eq(mj_num(r, "count"), 42);
    cr_expect_str_eq(mj_str(r, "message"), "check-then-act on app.cache['user:1']");
    cr_expect_str_eq(mj_str(r, "hint"), "hold one lock around both");
    cr_assert_eq(mj_len(r, "accesses"), 2);
    cr_expect_str_eq(mj_str(r, "accesses.0.op"), "contains");
    cr_expect_eq(mj_bool(r, "accesses.0.atomic"), 0);
    cr_expect_eq(mj_num(r, "accesses.0.pid"), 4242);
    cr_expect_eq(mj_num(r, "accesses.0.thread"), 2);
    cr_expect_str_eq(mj_str(r, "accesses.0.thread_name"), "worker-1");
    cr_expect_eq(mj_len(r, "accesses.0.locks"), 2);
    cr_expect_str_eq(mj_str(r, "accesses.0.locks.1"), "<lock created at app.py:12>");
    cr_expect_eq(mj_len(r, "accesses.0.stack"), 2);
    cr_expect_str_eq(mj_str(r, "accesses.0.stack.0.file"), "/src/app.py");
    cr_expect_eq(mj_num(r, "accesses.0.stack.0.line"), 20);
    cr_expect_str_eq(mj_str(r, "accesses.0.stack.0.function"), "Registry.get");
    cr_expect_str_eq(mj_str(r, "accesses.0.stack.1.function"), "main");
    cr_expect_eq(mj_len(r, "accesses.0.native_stack"), 0);
    cr_expect_str_eq(mj_str(r, "accesses.1.op"), "write");
    cr_expect_eq(mj_bool(r, "accesses.1.atomic"), 1);
    cr_expect_eq(mj_len(r, "accesses.1.locks"), 0);
    cr_expect_str_eq(mj_str(r, "accesses.1.native_stack.0"), "PyDict_SetItem+0x12");
}

Test(output_json, every_kind_and_severity_name)
{
    const char *names[] = {NULL, "lost-update", "check-then-act", "iteration-during-mutation", "unprotected-write"};
    for (int k = 1; k <= 4; k++)
        fx_add(&R, "NGR-00000000000k", (enum ngr_finding_kind)k, k % 2, "app.x", NULL, 1);
    const struct mj *d = render();
    for (int k = 1; k <= 4; k++) {
        char path[32];
        snprintf(path, sizeof path, "races.%d.kind", k - 1);
        cr_expect_str_eq(mj_str(d, path), names[k]);
        snprintf(path, sizeof path, "races.%d.severity", k - 1);
        cr_expect_str_eq(mj_str(d, path), k % 2 ? "error" : "warning");
    }
}

/* Names come from Python: quotes, backslashes, newlines, NUL-free control bytes, invalid UTF-8.
 * The document still parses and valid text comes back unchanged. */
Test(output_json, hostile_names_stay_valid_json)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000000f", NGR_FK_UNPROTECTED_WRITE, true,
                                   "app.\"q\"\\x\n\t\x01", "'\xff\xfe'", 1);
    struct fx_frame st[] = {{"/src/caf\xc3\xa9 \xf0\x9f\x90\x8d.py", 1, "f\x7f"}};
    fx_access(f, 0, "write", 1, "th\"read", NULL, 0, st, 1);
    fx_access(f, 1, "write", 2, "\xc0\xaf", NULL, 0, st, 1);
    const struct mj *d = render();
    cr_expect_str_eq(mj_str(d, "races.0.var_name"), "app.\"q\"\\x\n\t\x01");
    cr_expect_str_eq(mj_str(d, "races.0.key"), "'\xef\xbf\xbd\xef\xbf\xbd'", "invalid bytes become U+FFFD");
    cr_expect_str_eq(mj_str(d, "races.0.accesses.0.stack.0.file"), "/src/caf\xc3\xa9 \xf0\x9f\x90\x8d.py");
    cr_expect_str_eq(mj_str(d, "races.0.accesses.0.stack.0.function"), "f\x7f");
    cr_expect_str_eq(mj_str(d, "races.0.accesses.0.thread_name"), "th\"read");
    cr_expect_str_eq(mj_str(d, "races.0.accesses.1.thread_name"), "\xef\xbf\xbd\xef\xbf\xbd");
}

Test(output_json, empty_report)
{
    const struct mj *d = render();
    cr_expect_eq(mj_len(d, "races"), 0);
    cr_expect_eq(mj_num(d, "summary.races"), 0);
    cr_expect_eq(mj_num(d, "summary.suppressed"), 0);
    const struct mj *py = mj_at(d, "python");
    cr_assert(py);
    cr_expect_eq(py->t, MJ_NULL, "unknown interpreter is null");
    cr_expect_eq(mj_len(d, "warnings"), 0);
    cr_expect_eq(mj_len(d, "traces"), 0);
}

Test(output_json, write_error_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    cr_assert(f);
    setvbuf(f, NULL, _IONBF, 0);
    cr_expect_eq(ngr_output_json(f, &R, NULL), -1);
    fclose(f);
}

/* A race is a group (issue #13, schema 3): every site pair with its own id, flag, count, variable
 * and two sites, observed first; the objects and keys; the race's own fields are its
 * representative pair's; a finding made without pairs is its own single pair; the summary counts
 * the pairs. */
Test(output_json, group_fields)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000abcd", NGR_FK_LOST_UPDATE, false, "app.cache", NULL, 0);
    fx_add_pair(f, "NGR-000000000001", false, 5, "'a'", "/src/app.py", 30, "bump", 30, "bump");
    fx_add_pair(f, "NGR-000000000002", true, 1, "'b'", "/src/app.py", 40, "reset", 41, "reset");
    f->objects = 16;
    f->keys = 300;
    f->key_examples = ngr_xcalloc(NGR_MAX_KEY_EXAMPLES, sizeof *f->key_examples);
    f->key_examples[f->nkey_examples++] = ngr_xstrdup("'a'");
    f->key_examples[f->nkey_examples++] = ngr_xstrdup("'b'");
    ngr_group_settle(f);
    fx_add(&R, "NGR-00000000beef", NGR_FK_UNPROTECTED_WRITE, false, "app.y", NULL, 2);
    R.suppressed_pairs = 4;
    const struct mj *d = render();
    cr_expect_geq(mj_num(d, "version"), 3, "the group fields are there from version 3");
    const struct mj *r = mj_at(d, "races.0");
    cr_expect_str_eq(mj_str(r, "id"), "NGR-00000000abcd");
    cr_expect_eq(mj_bool(r, "observed"), 1, "observed: one of its pairs was");
    cr_expect_str_eq(mj_str(r, "severity"), "error");
    cr_expect_eq(mj_num(r, "count"), 6);
    cr_expect_str_eq(mj_str(r, "variable"), "app.cache['b']", "the representative's");
    cr_expect_str_eq(mj_str(r, "var_name"), "app.cache");
    cr_expect_eq(mj_num(r, "accesses.0.stack.0.line"), 40);
    cr_expect_eq(mj_num(r, "objects"), 16);
    cr_expect_eq(mj_num(r, "keys"), 300);
    cr_expect_eq(mj_len(r, "key_examples"), 2);
    cr_expect_str_eq(mj_str(r, "key_examples.1"), "'b'");
    cr_assert_eq(mj_len(r, "pairs"), 2);
    cr_expect_str_eq(mj_str(r, "pairs.0.id"), "NGR-000000000002", "observed first");
    cr_expect_eq(mj_bool(r, "pairs.0.observed"), 1);
    cr_expect_eq(mj_num(r, "pairs.0.count"), 1);
    cr_expect_str_eq(mj_str(r, "pairs.0.variable"), "app.cache['b']");
    cr_expect_str_eq(mj_str(r, "pairs.0.key"), "'b'");
    cr_assert_eq(mj_len(r, "pairs.0.sites"), 2);
    cr_expect_str_eq(mj_str(r, "pairs.0.sites.0.op"), "read");
    cr_expect_str_eq(mj_str(r, "pairs.0.sites.0.file"), "/src/app.py");
    cr_expect_eq(mj_num(r, "pairs.0.sites.0.line"), 40);
    cr_expect_str_eq(mj_str(r, "pairs.0.sites.0.function"), "reset");
    cr_expect_str_eq(mj_str(r, "pairs.0.sites.1.op"), "write");
    cr_expect_eq(mj_num(r, "pairs.0.sites.1.line"), 41);
    cr_expect_str_eq(mj_str(r, "pairs.1.id"), "NGR-000000000001");
    cr_expect_eq(mj_bool(r, "pairs.1.observed"), 0);
    cr_expect_eq(mj_num(r, "pairs.1.count"), 5);
    /* without pairs: itself */
    const struct mj *s = mj_at(d, "races.1");
    cr_assert_eq(mj_len(s, "pairs"), 1);
    cr_expect_str_eq(mj_str(s, "pairs.0.id"), "NGR-00000000beef");
    cr_expect_eq(mj_num(s, "pairs.0.count"), 2);
    cr_expect(mj_at(s, "pairs.0.sites.0.file") && mj_at(s, "pairs.0.sites.0.file")->t == MJ_NULL,
              "no stack: null file");
    cr_expect_eq(mj_num(d, "summary.races"), 2);
    cr_expect_eq(mj_num(d, "summary.site_pairs"), 3);
    cr_expect_eq(mj_num(d, "summary.suppressed_pairs"), 4);
}
