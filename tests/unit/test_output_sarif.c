/* test_output_sarif.c — `report --format=sarif`: the SARIF 2.1.0 structure code scanning needs
 * (rules per kind, ruleIndex, levels, locations relative to SRCROOT, related location, stacks,
 * partialFingerprints), and the edge cases: files outside the base, frozen frames, no frame,
 * brackets in names.  Schema validation proper is tests/e2e/t_out_sarif_schema.sh. */
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

TestSuite(output_sarif, .fini = teardown);

static const struct mj *render(const char *base)
{
    FILE *f = open_memstream(&BUF, &LEN);
    struct ngr_output_opts o = {.tool_version = "1.2.3", .base_dir = base};
    cr_assert_eq(ngr_output_sarif(f, &R, &o), 0);
    fclose(f);
    const char *err = NULL;
    DOC = mj_parse(BUF, LEN, &err);
    cr_assert(DOC, "not JSON (%s):\n%s", err, BUF);
    return DOC;
}

static struct ngr_finding *two_sites(const char *id, enum ngr_finding_kind k, bool observed, const char *file0,
                                     unsigned line0, const char *file1, unsigned line1)
{
    struct ngr_finding *f = fx_add(&R, id, k, observed, "app.counter", NULL, 5);
    struct fx_frame a[] = {{file0, line0, "worker"}};
    struct fx_frame b[] = {{file1, line1, "other"}};
    const char *locks[] = {"app.lock"};
    fx_access(f, 0, "read", 2, "worker-1", NULL, 0, a, 1);
    fx_access(f, 1, "write", 3, "worker-2", locks, 1, b, 1);
    return f;
}

Test(output_sarif, log_run_tool_and_rules)
{
    const struct mj *d = render("/src");
    cr_expect_str_eq(mj_str(d, "version"), "2.1.0");
    cr_expect(mj_str(d, "$schema") && strstr(mj_str(d, "$schema"), "sarif-schema-2.1.0.json"));
    cr_assert_eq(mj_len(d, "runs"), 1);
    const struct mj *run = mj_at(d, "runs.0");
    cr_expect_str_eq(mj_str(run, "tool.driver.name"), "nogilrace");
    cr_expect_str_eq(mj_str(run, "tool.driver.version"), "1.2.3");
    cr_assert_eq(mj_len(run, "tool.driver.rules"), 4);
    const char *ids[] = {"lost-update", "check-then-act", "iteration-during-mutation", "unprotected-write"};
    for (int i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof p, "tool.driver.rules.%d", i);
        const struct mj *rule = mj_at(run, p);
        cr_expect_str_eq(mj_str(rule, "id"), ids[i]);
        cr_expect(mj_str(rule, "name") && mj_str(rule, "name")[0]);
        cr_expect(mj_str(rule, "shortDescription.text") && strlen(mj_str(rule, "shortDescription.text")) > 10);
        cr_expect(mj_str(rule, "fullDescription.text") && strlen(mj_str(rule, "fullDescription.text")) > 10);
        cr_expect(mj_str(rule, "help.text") && strlen(mj_str(rule, "help.text")) > 10);
        cr_expect_str_eq(mj_str(rule, "defaultConfiguration.level"), "error");
    }
    cr_expect_str_eq(mj_str(run, "originalUriBaseIds.SRCROOT.uri"), "file:///src/");
    cr_expect_eq(mj_len(run, "results"), 0);
}

Test(output_sarif, result_points_at_both_sites)
{
    two_sites("NGR-aaaaaaaaaaaa", NGR_FK_CHECK_THEN_ACT, false, "/src/pkg/app.py", 12, "/src/pkg/app.py", 14);
    const struct mj *run = mj_at(render("/src/"), "runs.0");
    const struct mj *res = mj_at(run, "results.0");
    cr_assert(res);
    cr_expect_str_eq(mj_str(res, "ruleId"), "check-then-act");
    int ix = (int)mj_num(res, "ruleIndex");
    char p[64];
    snprintf(p, sizeof p, "tool.driver.rules.%d.id", ix);
    cr_expect_str_eq(mj_str(run, p), "check-then-act", "ruleIndex points at the rule");
    cr_expect_str_eq(mj_str(res, "level"), "warning", "potential → warning");
    cr_assert_eq(mj_len(res, "locations"), 1);
    cr_expect_str_eq(mj_str(res, "locations.0.physicalLocation.artifactLocation.uri"), "pkg/app.py");
    cr_expect_str_eq(mj_str(res, "locations.0.physicalLocation.artifactLocation.uriBaseId"), "SRCROOT");
    cr_expect_eq(mj_num(res, "locations.0.physicalLocation.region.startLine"), 12);
    cr_expect_str_eq(mj_str(res, "locations.0.logicalLocations.0.fullyQualifiedName"), "worker");
    cr_assert_eq(mj_len(res, "relatedLocations"), 1);
    cr_expect_eq(mj_num(res, "relatedLocations.0.id"), 1);
    cr_expect_eq(mj_num(res, "relatedLocations.0.physicalLocation.region.startLine"), 14);
    const char *rel = mj_str(res, "relatedLocations.0.message.text");
    cr_expect(rel && strstr(rel, "write by thread 3 (worker-2)") && strstr(rel, "holding app.lock"), "%s", rel);
    const char *msg = mj_str(res, "message.text");
    cr_expect(msg && strstr(msg, "](1)"), "message links the related location: %s", msg);
    cr_expect(strstr(msg, "NGR-aaaaaaaaaaaa") && strstr(msg, "potential"), "%s", msg);
    cr_expect_str_eq(mj_str(res, "partialFingerprints.nogilraceFindingId/v2"), "NGR-aaaaaaaaaaaa");
    cr_expect_eq(mj_num(res, "occurrenceCount"), 5);
    cr_expect_eq(mj_len(res, "stacks"), 2);
    cr_expect_str_eq(mj_str(res, "stacks.1.frames.0.location.logicalLocations.0.fullyQualifiedName"), "other");
    cr_expect_str_eq(mj_str(res, "properties.id"), "NGR-aaaaaaaaaaaa");
}

Test(output_sarif, observed_is_error)
{
    two_sites("NGR-bbbbbbbbbbbb", NGR_FK_LOST_UPDATE, true, "/src/a.py", 1, "/src/a.py", 1);
    const struct mj *d = render("/src");
    cr_expect_str_eq(mj_str(d, "runs.0.results.0.level"), "error");
    cr_expect_eq(mj_num(d, "runs.0.results.0.ruleIndex"), 0);
}

Test(output_sarif, files_outside_base_are_absolute_and_encoded)
{
    two_sites("NGR-cccccccccccc", NGR_FK_UNPROTECTED_WRITE, true, "/opt/my lib/x#y%.py", 3, "rel/dir/b.py", 4);
    const struct mj *res = mj_at(render("/src"), "runs.0.results.0");
    cr_expect_str_eq(mj_str(res, "locations.0.physicalLocation.artifactLocation.uri"), "file:///opt/my%20lib/x%23y%25.py");
    cr_expect_null(mj_at(res, "locations.0.physicalLocation.artifactLocation.uriBaseId"));
    /* a recorded relative path is relative to where the program ran, i.e. the base */
    cr_expect_str_eq(mj_str(res, "relatedLocations.0.physicalLocation.artifactLocation.uri"), "rel/dir/b.py");
    cr_expect_str_eq(mj_str(res, "relatedLocations.0.physicalLocation.artifactLocation.uriBaseId"), "SRCROOT");
}

Test(output_sarif, prefix_of_base_is_not_under_it)
{
    two_sites("NGR-dddddddddddd", NGR_FK_UNPROTECTED_WRITE, true, "/srcother/a.py", 3, "/src/a.py", 4);
    const struct mj *res = mj_at(render("/src"), "runs.0.results.0");
    cr_expect_str_eq(mj_str(res, "locations.0.physicalLocation.artifactLocation.uri"), "file:///srcother/a.py");
    cr_expect_str_eq(mj_str(res, "relatedLocations.0.physicalLocation.artifactLocation.uri"), "a.py");
}

Test(output_sarif, frozen_frames_are_skipped_and_no_frame_is_logical)
{
    struct ngr_finding *f = fx_add(&R, "NGR-eeeeeeeeeeee", NGR_FK_ITERATION_DURING_MUTATION, true, "app.cache", "'k'", 1);
    struct fx_frame a[] = {{"<frozen importlib._bootstrap>", 5, "_load"}, {"/src/app.py", 0, "nope"}, {"/src/app.py", 9, "main"}};
    fx_access(f, 0, "iter_begin", 1, "MainThread", NULL, 0, a, 3);
    fx_access(f, 1, "delete", 2, "w", NULL, 0, NULL, 0);
    const struct mj *res = mj_at(render("/src"), "runs.0.results.0");
    cr_expect_str_eq(mj_str(res, "locations.0.physicalLocation.artifactLocation.uri"), "app.py");
    cr_expect_eq(mj_num(res, "locations.0.physicalLocation.region.startLine"), 9);
    cr_expect_null(mj_at(res, "relatedLocations.0.physicalLocation"));
    cr_expect_str_eq(mj_str(res, "relatedLocations.0.logicalLocations.0.fullyQualifiedName"), "app.cache['k']");
    cr_expect_str_eq(mj_str(res, "relatedLocations.0.logicalLocations.0.kind"), "variable");
    /* the frozen frame stays in the stack, without a physical location */
    cr_expect_null(mj_at(res, "stacks.0.frames.0.location.physicalLocation"));
    cr_expect_str_eq(mj_str(res, "stacks.0.frames.0.location.message.text"), "<frozen importlib._bootstrap>");
    cr_expect_eq(mj_num(res, "stacks.0.frames.2.location.physicalLocation.region.startLine"), 9);
}

Test(output_sarif, result_moves_to_the_access_that_has_a_line)
{
    struct ngr_finding *f = fx_add(&R, "NGR-eeeeeeeeeee1", NGR_FK_UNPROTECTED_WRITE, true, "app.x", NULL, 1);
    struct fx_frame a[] = {{"<frozen runpy>", 5, "_run_code"}};
    struct fx_frame b[] = {{"/src/app.py", 33, "worker"}};
    fx_access(f, 0, "write", 1, "MainThread", NULL, 0, a, 1);
    fx_access(f, 1, "write", 2, "w", NULL, 0, b, 1);
    const struct mj *res = mj_at(render("/src"), "runs.0.results.0");
    cr_expect_eq(mj_num(res, "locations.0.physicalLocation.region.startLine"), 33);
    cr_expect_str_eq(mj_str(res, "relatedLocations.0.logicalLocations.0.kind"), "variable");
    const char *msg = mj_str(res, "message.text");
    cr_expect(msg && strstr(msg, "This access: write by thread 2 (w)"), "%s", msg);
    cr_expect_str_eq(mj_str(res, "stacks.0.frames.0.location.message.text"), "<frozen runpy>", "stacks keep their order");
}

Test(output_sarif, brackets_in_text_are_escaped)
{
    two_sites("NGR-ffffffffffff", NGR_FK_CHECK_THEN_ACT, true, "/src/a.py", 1, "/src/a.py", 2);
    free(R.findings[0].message);
    R.findings[0].message = ngr_xstrdup("check-then-act on app.cache['k'] \\ x");
    const char *msg = mj_str(render("/src"), "runs.0.results.0.message.text");
    cr_expect(msg && strstr(msg, "app.cache\\['k'\\] \\\\ x"), "%s", msg);
    /* exactly one unescaped link: the related location */
    size_t links = 0;
    for (const char *p = msg; (p = strstr(p, "](")); p++)
        links += p[-1] != '\\';
    cr_expect_eq(links, 1, "%s", msg);
}

Test(output_sarif, run_properties_and_warnings)
{
    R.python_version = ngr_xstrdup("3.13.5");
    R.free_threaded = true;
    R.processes = 2;
    R.events = 99;
    R.suppressed = 4;
    R.nwarnings = 1;
    R.warnings = ngr_xcalloc(1, sizeof *R.warnings);
    R.warnings[0] = ngr_xstrdup("x.ngrtrace: trace incomplete");
    R.procs = ngr_xcalloc(2, sizeof *R.procs);
    const struct mj *run = mj_at(render("/src"), "runs.0");
    cr_expect_str_eq(mj_str(run, "properties.python"), "3.13.5");
    cr_expect_eq(mj_num(run, "properties.processes"), 2);
    cr_expect_eq(mj_num(run, "properties.events"), 99);
    cr_expect_eq(mj_num(run, "properties.suppressed"), 4);
    cr_expect_eq(mj_bool(run, "invocations.0.executionSuccessful"), 1);
    cr_expect_str_eq(mj_str(run, "invocations.0.toolExecutionNotifications.0.message.text"), "x.ngrtrace: trace incomplete");
    cr_expect_str_eq(mj_str(run, "invocations.0.toolExecutionNotifications.0.level"), "warning");
}

/* One result per group (issue #13): the representative pair's two accesses as location and
 * related location 1, then the other pairs' sites as related locations 2, 3 ..., each source line
 * once; the message and properties say how many pairs, objects and keys. */
Test(output_sarif, one_result_per_group_with_the_other_pairs_related)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000abcd", NGR_FK_LOST_UPDATE, true, "app.Stats().hits", NULL, 0);
    fx_add_pair(f, "NGR-000000000001", true, 9, NULL, "/src/app.py", 40, "bump", 41, "bump");
    fx_add_pair(f, "NGR-000000000002", true, 3, NULL, "/src/app.py", 30, "reset", 30, "reset");
    fx_add_pair(f, "NGR-000000000003", false, 7, NULL, "/src/app.py", 50, "grow", 41, "bump");
    f->objects = 16;
    ngr_group_settle(f);
    const struct mj *run = mj_at(render("/src"), "runs.0");
    cr_assert_eq(mj_len(run, "results"), 1);
    const struct mj *res = mj_at(run, "results.0");
    cr_expect_eq(mj_num(res, "locations.0.physicalLocation.region.startLine"), 40);
    cr_assert_eq(mj_len(res, "relatedLocations"), 3, "41, then 30 once, then 50 (41 again is not repeated)");
    cr_expect_eq(mj_num(res, "relatedLocations.0.id"), 1);
    cr_expect_eq(mj_num(res, "relatedLocations.0.physicalLocation.region.startLine"), 41);
    cr_expect_eq(mj_num(res, "relatedLocations.1.id"), 2);
    cr_expect_eq(mj_num(res, "relatedLocations.1.physicalLocation.region.startLine"), 30);
    const char *m1 = mj_str(res, "relatedLocations.1.message.text");
    cr_expect(m1 && strstr(m1, "site pair 2 of 3 (observed, 3 times): read"), "%s", m1);
    cr_expect_eq(mj_num(res, "relatedLocations.2.id"), 3);
    cr_expect_eq(mj_num(res, "relatedLocations.2.physicalLocation.region.startLine"), 50);
    const char *m2 = mj_str(res, "relatedLocations.2.message.text");
    cr_expect(m2 && strstr(m2, "site pair 3 of 3 (potential, 7 times)"), "%s", m2);
    const char *msg = mj_str(res, "message.text");
    cr_expect(msg && strstr(msg, "Seen at 3 site pairs") && strstr(msg, "On 16 objects and 0 keys"), "%s", msg);
    cr_expect_eq(mj_num(res, "occurrenceCount"), 19);
    cr_expect_eq(mj_num(res, "properties.pairs"), 3);
    cr_expect_eq(mj_num(res, "properties.objects"), 16);
    cr_expect_str_eq(mj_str(res, "partialFingerprints.nogilraceFindingId/v2"), "NGR-00000000abcd");
}

/* At most 50 related locations, however many pairs a group has. */
Test(output_sarif, related_locations_are_capped)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000abce", NGR_FK_LOST_UPDATE, true, "app.x", NULL, 0);
    for (unsigned i = 0; i < 200; i++) {
        char id[20];
        snprintf(id, sizeof id, "NGR-%012x", i + 1);
        fx_add_pair(f, id, true, 1, NULL, "/src/gen.py", 1000 + 2 * i, "f", 1001 + 2 * i, "f");
    }
    ngr_group_settle(f);
    const struct mj *res = mj_at(render("/src"), "runs.0.results.0");
    cr_expect_eq(mj_len(res, "relatedLocations"), 50);
}
