/* test_suppress.c — suppression files (every rule type, globs, comments, bad lines with their line
 * number, unreadable files) and `# nogilrace: ignore` comments read from the source at report time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suppress.h"
#include "test_output_helpers.h"

static struct ngr_report R;
static struct ngr_suppressions *S;
static char ERR[512];
static char DIR[64];

static void setup(void)
{
    snprintf(DIR, sizeof DIR, "/tmp/ngr-supp-test.XXXXXX");
    cr_assert(mkdtemp(DIR));
}

static void teardown(void)
{
    ngr_report_free(&R);
    ngr_suppress_free(S);
    S = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(suppress, .init = setup, .fini = teardown);

static struct ngr_suppressions *parse(const char *text)
{
    ngr_suppress_free(S);
    S = ngr_suppress_parse("my.supp", text, strlen(text), ERR, sizeof ERR);
    return S;
}

static void write_file(const char *name, const char *text, char *path, size_t plen)
{
    snprintf(path, plen, "%s/%s", DIR, name);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* A finding in worker() (/src/app.py:7) against main() (/src/lib/util.py:30) on app.cache['k']. */
static struct ngr_finding *sample(void)
{
    struct ngr_finding *f = fx_add(&R, "NGR-12ab34cd56ef", NGR_FK_CHECK_THEN_ACT, true, "app.cache", "'k'", 1);
    struct fx_frame a[] = {{"/src/app.py", 7, "Registry.get"}, {"/src/app.py", 40, "worker"}};
    struct fx_frame b[] = {{"/src/lib/util.py", 30, "store"}};
    fx_access(f, 0, "contains", 2, "w1", NULL, 0, a, 2);
    fx_access(f, 1, "write", 3, "w2", NULL, 0, b, 1);
    return f;
}

static bool matches(const char *rules)
{
    cr_assert(parse(rules), "%s", ERR);
    ngr_suppress_set_inline(S, false);
    return ngr_suppress_match(S, &R.findings[0]);
}

Test(suppress, race_rules_match_id_or_kind)
{
    sample();
    cr_expect(matches("race:NGR-12ab34cd56ef\n"));
    cr_expect(matches("race:NGR-12ab*\n"));
    cr_expect(matches("race:check-then-act\n"));
    cr_expect(matches("race:check-*"));
    cr_expect_not(matches("race:lost-update\n"));
    cr_expect_not(matches("race:NGR-0*\n"));
}

Test(suppress, variable_rules_match_with_or_without_key)
{
    sample();
    cr_expect(matches("variable:app.cache\n"));
    cr_expect(matches("variable:app.*\n"));
    cr_expect(matches("variable:app.cache\\['k'\\]\n"));
    cr_expect_not(matches("variable:app.counter\n"));
    cr_expect_not(matches("variable:cache\n"));
}

Test(suppress, file_rules_match_any_frame_of_either_access)
{
    sample();
    cr_expect(matches("file:/src/app.py\n"));
    cr_expect(matches("file:*/lib/*\n"), "second access");
    cr_expect(matches("file:util.py\n"), "a glob without '/' matches the base name");
    cr_expect(matches("file:*.py\n"));
    cr_expect_not(matches("file:/src/other.py\n"));
    cr_expect_not(matches("file:lib/util.py\n"), "with a '/', the whole path must match");
}

Test(suppress, function_rules_match_any_frame)
{
    sample();
    cr_expect(matches("function:Registry.get\n"));
    cr_expect(matches("function:Registry.*\n"));
    cr_expect(matches("function:worker\n"), "outer frame");
    cr_expect(matches("function:store\n"), "other access");
    cr_expect_not(matches("function:get\n"));
}

Test(suppress, comments_blank_lines_spaces_crlf)
{
    sample();
    cr_expect(matches("# a comment\n\n   \t\n  # indented comment\r\n  function : store  \r\n"));
    cr_expect_not(matches("# function:store\n\n"));
    cr_expect_not(matches(""));
    cr_expect(matches("race:lost-update\nvariable:app.cache"), "any rule suffices; last line without newline");
}

Test(suppress, bad_lines_name_file_and_line)
{
    cr_expect_null(parse("# ok\n\nrace:x\nbogus:y\n"));
    cr_expect(strstr(ERR, "my.supp:4: unknown rule type 'bogus'"), "%s", ERR);
    cr_expect_null(parse("race:x\n\njust text\n"));
    cr_expect(strstr(ERR, "my.supp:3: expected TYPE:GLOB"), "%s", ERR);
    cr_expect_null(parse("variable:   \n"));
    cr_expect(strstr(ERR, "my.supp:1: empty pattern after 'variable:'"), "%s", ERR);
    cr_expect_null(parse("Race:x\n"), "types are case-sensitive");
    cr_expect(strstr(ERR, "my.supp:1:"), "%s", ERR);
    ngr_suppress_free(S);
    S = ngr_suppress_parse("my.supp", "race:a\0b\n", 9, ERR, sizeof ERR);
    cr_expect_null(S);
    cr_expect(strstr(ERR, "my.supp:1: NUL byte"), "%s", ERR);
}

Test(suppress, load_from_file_and_errors)
{
    char path[256];
    write_file("ok.supp", "# mine\nrace:check-then-act\n", path, sizeof path);
    sample();
    S = ngr_suppress_load(path, ERR, sizeof ERR);
    cr_assert(S, "%s", ERR);
    cr_expect(ngr_suppress_match(S, &R.findings[0]));
    ngr_suppress_free(S);
    write_file("bad.supp", "race:x\nfile\n", path, sizeof path);
    S = ngr_suppress_load(path, ERR, sizeof ERR);
    cr_expect_null(S);
    char want[300];
    snprintf(want, sizeof want, "%s:2: expected TYPE:GLOB", path);
    cr_expect(strstr(ERR, want), "%s", ERR);
    snprintf(path, sizeof path, "%s/missing.supp", DIR);
    S = ngr_suppress_load(path, ERR, sizeof ERR);
    cr_expect_null(S);
    cr_expect(strstr(ERR, "missing.supp: cannot read the suppressions file"), "%s", ERR);
    S = ngr_suppress_load(NULL, ERR, sizeof ERR);
    cr_assert(S, "no file: an empty rule set");
    cr_expect_not(ngr_suppress_match(S, &R.findings[0]), "the sample's sources do not exist");
}

/* A finding whose first access is on line `line0` of src and second on line `line1`. */
static void on_lines(const char *src, unsigned line0, unsigned line1, enum ngr_finding_kind kind)
{
    struct ngr_finding *f = fx_add(&R, "NGR-000000000abc", kind, true, "app.x", NULL, 1);
    struct fx_frame a[] = {{"<frozen runpy>", 3, "_run"}, {src, line0, "f"}};
    struct fx_frame b[] = {{src, line1, "g"}};
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 2);
    fx_access(f, 1, "write", 3, "w2", NULL, 0, b, 1);
}

static bool ignored(void)
{
    ngr_suppress_free(S);
    S = ngr_suppress_load(NULL, ERR, sizeof ERR);
    bool r = ngr_suppress_match(S, &R.findings[R.nfindings - 1]);
    return r;
}

Test(suppress, inline_ignore_comment_on_either_access)
{
    char src[256];
    write_file("app.py",
               "x = 0\n"                                   /* 1 */
               "def f():\n"                                /* 2 */
               "    global x\n"                            /* 3 */
               "    x += 1  # nogilrace: ignore\n"         /* 4 */
               "    x = 2\n"                               /* 5 */
               "    x = 3 #nogilrace:ignore[lost-update]\n" /* 6 */
               "    x = 4  # nogilrace: ignore[check-then-act, unprotected-write]\n" /* 7 */
               "    x = 5  # nogilrace: ignored\n"         /* 8 */
               "    x = 6  # see nogilrace: ignore\n"      /* 9 */
               "    x = 7  # noqa  # nogilrace : ignore -- known\n", /* 10, no newline after */
               src, sizeof src);
    on_lines(src, 4, 5, NGR_FK_LOST_UPDATE);
    cr_expect(ignored(), "first access's line (past a frozen frame)");
    on_lines(src, 5, 4, NGR_FK_LOST_UPDATE);
    cr_expect(ignored(), "second access's line");
    on_lines(src, 5, 2, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored(), "no comment on either line");
    on_lines(src, 6, 5, NGR_FK_LOST_UPDATE);
    cr_expect(ignored(), "ignore[kind] for that kind");
    on_lines(src, 6, 5, NGR_FK_CHECK_THEN_ACT);
    cr_expect_not(ignored(), "ignore[kind] for another kind");
    on_lines(src, 7, 5, NGR_FK_UNPROTECTED_WRITE);
    cr_expect(ignored(), "second kind of a list");
    on_lines(src, 8, 5, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored(), "'ignored' is not the marker");
    on_lines(src, 9, 5, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored(), "the marker must start a comment");
    on_lines(src, 10, 5, NGR_FK_LOST_UPDATE);
    cr_expect(ignored(), "a second comment on the line, spaces around ':'");
    on_lines(src, 99, 5, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored(), "line past the end");
    char gone[256];
    snprintf(gone, sizeof gone, "%s/gone.py", DIR);
    on_lines(gone, 4, 4, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored(), "missing file: not suppressed, not an error");
    on_lines(src, 4, 5, NGR_FK_LOST_UPDATE);
    ngr_suppress_free(S);
    S = ngr_suppress_load(NULL, ERR, sizeof ERR);
    ngr_suppress_set_inline(S, false);
    cr_expect_not(ngr_suppress_match(S, &R.findings[R.nfindings - 1]), "inline comments turned off");
}

Test(suppress, source_file_is_read_once)
{
    char src[256];
    write_file("once.py", "a = 1  # nogilrace: ignore\n", src, sizeof src);
    on_lines(src, 1, 1, NGR_FK_LOST_UPDATE);
    S = ngr_suppress_load(NULL, ERR, sizeof ERR);
    cr_expect(ngr_suppress_match(S, &R.findings[0]));
    write_file("once.py", "a = 1\n", src, sizeof src); /* changed after the first read: cached */
    cr_expect(ngr_suppress_match(S, &R.findings[0]));
}

Test(suppress, fifo_and_directory_are_not_read)
{
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/pipe.py", DIR);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    on_lines(fifo, 1, 1, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored(), "a FIFO is neither read nor waited on");
    on_lines(DIR, 1, 1, NGR_FK_LOST_UPDATE);
    cr_expect_not(ignored());
}

Test(suppress, apply_removes_counts_and_keeps_order)
{
    fx_add(&R, "NGR-000000000001", NGR_FK_LOST_UPDATE, true, "app.a", NULL, 1);
    fx_add(&R, "NGR-000000000002", NGR_FK_CHECK_THEN_ACT, true, "app.b", NULL, 1);
    fx_add(&R, "NGR-000000000003", NGR_FK_LOST_UPDATE, false, "app.c", NULL, 1);
    fx_add(&R, "NGR-000000000004", NGR_FK_UNPROTECTED_WRITE, false, "app.d", NULL, 1);
    R.suppressed = 1;
    cr_assert(parse("race:lost-update\n"));
    cr_expect_eq(ngr_suppress_apply(S, &R), 2);
    cr_expect_eq(R.suppressed, 3);
    cr_assert_eq(R.nfindings, 2);
    cr_expect_str_eq(R.findings[0].id, "NGR-000000000002");
    cr_expect_str_eq(R.findings[1].id, "NGR-000000000004");
}

/* The built-in rules cover re's pattern caches (with or without a key) and nothing of the
 * program's: a module named like them but elsewhere, or another re global, stays reported. */
Test(suppress, defaults_cover_stdlib_caches_only)
{
    struct ngr_finding *f;
    f = fx_add(&R, "NGR-000000000001", NGR_FK_LOST_UPDATE, true, "re._cache", "(<class 'str'>, '\\\\d+', 0)", 1);
    struct fx_frame a[] = {{"/usr/lib/python3.13t/re/__init__.py", 305, "_compile"}};
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 1);
    fx_access(f, 1, "write", 3, "w2", NULL, 0, a, 1);
    f = fx_add(&R, "NGR-000000000002", NGR_FK_CHECK_THEN_ACT, true, "re._cache2", NULL, 1);
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 1);
    fx_access(f, 1, "write", 3, "w2", NULL, 0, a, 1);
    f = fx_add(&R, "NGR-000000000003", NGR_FK_LOST_UPDATE, true, "app.re._cache", NULL, 1);
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 1);
    f = fx_add(&R, "NGR-000000000004", NGR_FK_LOST_UPDATE, true, "re._MAXCACHE", NULL, 1);
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 1);
    f = fx_add(&R, "NGR-000000000005", NGR_FK_LOST_UPDATE, true, "encodings._cache", "'cp1252'", 1);
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 1);
    f = fx_add(&R, "NGR-000000000006", NGR_FK_LOST_UPDATE, true, "encodings.aliases", NULL, 1);
    fx_access(f, 0, "read", 2, "w1", NULL, 0, a, 1);
    S = ngr_suppress_defaults();
    cr_assert(S);
    cr_expect_eq(ngr_suppress_apply(S, &R), 3);
    cr_assert_eq(R.nfindings, 3);
    cr_expect_str_eq(R.findings[0].variable, "app.re._cache");
    cr_expect_str_eq(R.findings[1].variable, "re._MAXCACHE");
    cr_expect_str_eq(R.findings[2].variable, "encodings.aliases");
    cr_expect_eq(R.suppressed, 3);
}

/* ---- the suppressions file's limits (issue #12) ----------------------------------------------------- */

/* The suppressions file is read by the source files' reader (readfile.h), with its limits: a FIFO
 * is refused at once (it hung the report), so is a directory, a device (/dev/zero grew the
 * analyzer to 24 GB, /dev/urandom never ended: the e2e test t_out_hostile_input tries those), and
 * a file over 4 MiB. */
Test(suppress, suppressions_file_limits, .timeout = 30)
{
    char path[256];
    snprintf(path, sizeof path, "%s/pipe.supp", DIR);
    cr_assert_eq(mkfifo(path, 0600), 0);
    S = ngr_suppress_load(path, ERR, sizeof ERR);
    cr_expect_null(S);
    cr_expect(strstr(ERR, "pipe.supp: cannot read the suppressions file: a FIFO, not a regular file"), "%s", ERR);

    S = ngr_suppress_load(DIR, ERR, sizeof ERR);
    cr_expect_null(S);
    cr_expect(strstr(ERR, ": cannot read the suppressions file: a directory, not a regular file"), "%s", ERR);

    /* 4 MiB of rules is the limit: one byte more is refused, with the limit named */
    snprintf(path, sizeof path, "%s/big.supp", DIR);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    static const char line[] = "race:NGR-0123456789ab\n"; /* 22 bytes */
    size_t n = 0;
    while (n + sizeof line - 1 <= (4u << 20))
        n += fwrite(line, 1, sizeof line - 1, f);
    for (; n < (4u << 20); n++)
        fputc('\n', f);
    cr_assert_eq(fclose(f), 0);
    S = ngr_suppress_load(path, ERR, sizeof ERR);
    cr_expect_not_null(S, "exactly 4 MiB is read: %s", ERR);
    ngr_suppress_free(S);
    f = fopen(path, "a");
    fputc('\n', f);
    fclose(f);
    S = ngr_suppress_load(path, ERR, sizeof ERR);
    cr_expect_null(S);
    cr_expect(strstr(ERR, "big.supp: cannot read the suppressions file: 4194305 bytes, larger than the limit of 4 MiB"),
              "%s", ERR);
}

/* ---- groups: suppression per site pair (issue #13) ----------------------------------------------- */

/* What the group shares (its id, kind, name) covers every pair; what a pair has (its own id, the
 * key it was seen on, its frames) covers that pair.  ngr_suppress_match: all pairs covered. */
Test(suppress, rules_apply_per_site_pair)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000abcd", NGR_FK_LOST_UPDATE, true, "app.cache", NULL, 0);
    fx_add_pair(f, "NGR-000000000001", true, 5, "'a'", "/src/app.py", 30, "bump", 30, "bump");
    fx_add_pair(f, "NGR-000000000002", true, 3, "'b'", "/src/lib.py", 40, "reset", 41, "reset");
    ngr_group_settle(f);
    cr_expect(matches("race:NGR-00000000abcd\n"));
    cr_expect(matches("race:lost-update\n"));
    cr_expect(matches("variable:app.cache\n"));
    cr_expect(matches("function:bump\nfunction:reset\n"), "every pair covered by one rule or another");
    cr_expect_not(matches("race:NGR-000000000001\n"), "one pair of two");
    cr_expect_not(matches("variable:app.cache\\['a'\\]\n"), "one pair of two");
    cr_expect_not(matches("file:lib.py\n"), "one pair of two");

    cr_assert(parse("variable:app.cache\\['a'\\]\n"), "%s", ERR);
    ngr_suppress_set_inline(S, false);
    cr_expect_eq(ngr_suppress_apply(S, &R), 0, "the finding stays");
    cr_assert_eq(R.nfindings, 1);
    cr_expect_eq(R.findings[0].npairs, 1);
    cr_expect_str_eq(R.findings[0].pairs[0].id, "NGR-000000000002");
    cr_expect_str_eq(R.findings[0].variable, "app.cache['b']", "settled on the pair left");
    cr_expect_eq(R.findings[0].count, 3);
    cr_expect_eq(R.suppressed, 0);
    cr_expect_eq(R.suppressed_pairs, 1);

    cr_assert(parse("file:lib.py\n"), "%s", ERR);
    ngr_suppress_set_inline(S, false);
    cr_expect_eq(ngr_suppress_apply(S, &R), 1, "its last pair: the finding goes");
    cr_expect_eq(R.nfindings, 0);
    cr_expect_eq(R.suppressed, 1);
    cr_expect_eq(R.suppressed_pairs, 1);
}

/* A finding that loses its observed pairs is potential, and moves after the observed ones. */
Test(suppress, a_group_left_potential_moves_down)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000000a", NGR_FK_LOST_UPDATE, true, "app.a", NULL, 0);
    fx_add_pair(f, "NGR-000000000001", true, 5, NULL, "/src/app.py", 30, "bump", 30, "bump");
    fx_add_pair(f, "NGR-000000000002", false, 3, NULL, "/src/app.py", 40, "reset", 41, "reset");
    ngr_group_settle(f);
    fx_add(&R, "NGR-00000000000b", NGR_FK_LOST_UPDATE, true, "app.b", NULL, 1);
    cr_assert(parse("function:bump\n"), "%s", ERR);
    ngr_suppress_set_inline(S, false);
    cr_expect_eq(ngr_suppress_apply(S, &R), 0);
    cr_assert_eq(R.nfindings, 2);
    cr_expect_str_eq(R.findings[0].id, "NGR-00000000000b");
    cr_expect_str_eq(R.findings[1].id, "NGR-00000000000a");
    cr_expect_not(R.findings[1].observed);
    cr_expect_eq(R.findings[1].severity, NGR_SEV_WARNING);
}
