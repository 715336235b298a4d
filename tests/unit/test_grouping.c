/* test_grouping.c — one finding per bug (issue #13 item 9): the findings of a trace are groups,
 * one per kind and variable name, listing the site pairs and counting the objects and keys they
 * were seen on; group ids do not depend on var ids, stack ids, thread numbers or how many pairs
 * and objects a run saw; suppression is decided per site pair. */
#include <stdio.h>
#include <unistd.h>

#include "analysis_fixture.h"
#include "groups.h"
#include "output.h"
#include "suppress.h"
#include "test_output_helpers.h"

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(grouping, .fini = fini);

/* ---- scenarios --------------------------------------------------------------------------------- */

/* Threads a and b each begin after main spawns them (fx_start2 with other thread numbers). */
static void start_pair(struct ngr_tg *g, uint32_t a, uint32_t b)
{
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, a, 0);
    ngr_tg_thread(g, a, NGR_THR_BEGIN, 1, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, b, 0);
    ngr_tg_thread(g, b, NGR_THR_BEGIN, 1, 0);
}

/* Threads a and b end and main joins them: what they did happens before anything main starts next. */
static void join_pair(struct ngr_tg *g, uint32_t a, uint32_t b)
{
    ngr_tg_thread(g, a, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, b, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, a, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, b, 0);
}

/* `builtins._ += 1` in n functions step0..step<n-1> (file:10 + i), each run by a pair of threads
 * of its own (first + 2i, first + 2i + 1) joined before the next pair starts: n lost updates,
 * each at its own site pair.  padding moves the stack ids. */
static void global_at_sites(struct ngr_tg *g, uint32_t var, unsigned n, uint32_t first, unsigned padding,
                            const char *file)
{
    ngr_tg_var(g, var, NGR_VAR_GLOBAL, "builtins._");
    for (unsigned i = 0; i < padding; i++)
        fx_at(g, "unused", 1 + i);
    uint32_t s[16];
    for (unsigned i = 0; i < n; i++) {
        char fn[16];
        snprintf(fn, sizeof fn, "step%u", i);
        s[i] = ngr_tg_stack1(g, file, fn, 10 + i);
    }
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    for (unsigned i = 0; i < n; i++) {
        uint32_t a = first + 2 * i, b = a + 1;
        start_pair(g, a, b);
        fx_rmw(g, a, var, 0, (uint64_t)a << 16 | i, s[i], 0);
        fx_rmw(g, b, var, 0, (uint64_t)b << 16 | i, s[i], 0);
        join_pair(g, a, b);
    }
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
}

/* n objects of one class (var ids base..base+n-1, one display name) whose attribute two threads
 * update: the first half in Curry.__call__ (line 30), the rest in Curry.bind (line 40). */
static void objects_of_a_class(struct ngr_tg *g, uint32_t base, unsigned n, uint32_t a, uint32_t b)
{
    for (unsigned i = 0; i < n; i++)
        ngr_tg_var(g, base + i, NGR_VAR_OBJ_ATTR, "toolz.curry()._should_curry");
    uint32_t call = fx_at(g, "curry.__call__", 30), bind = fx_at(g, "curry.bind", 40);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    start_pair(g, a, b);
    for (unsigned i = 0; i < n; i++) {
        uint32_t s = i < n / 2 ? call : bind;
        fx_rmw(g, a, base + i, 0, (uint64_t)a << 16 | i, s, 0);
        fx_rmw(g, b, base + i, 0, (uint64_t)b << 16 | i, s, 0);
    }
    join_pair(g, a, b);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
}

static char *text_of(const struct ngr_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(ngr_output_text(f, r), 0);
    fclose(f);
    return buf;
}

/* R = the analysis of global_at_sites() with n functions: one finding. */
static const struct ngr_finding *global_finding(unsigned n)
{
    struct ngr_tg *g = fx_new();
    global_at_sites(g, 40, n, 2, 0, "app.py");
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1, "found %s", fx_list(&R));
    return &R.findings[0];
}

/* ---- one finding per bug --------------------------------------------------------------------------- */

/* `builtins._` raced at 7 site pairs gave 7 findings: it is one, listing the 7 pairs. */
Test(grouping, seven_site_pairs_on_one_global_are_one_finding)
{
    const struct ngr_finding *f = global_finding(7);
    cr_expect_eq(f->kind, NGR_FK_LOST_UPDATE);
    cr_expect_str_eq(f->var_name, "builtins._");
    cr_assert_eq(f->npairs, 7);
    uint64_t sum = 0;
    for (size_t i = 0; i < f->npairs; i++) {
        sum += f->pairs[i].count;
        cr_expect(f->pairs[i].observed);
        cr_expect_eq(f->pairs[i].access[0].depth, 1, "each pair keeps its stacks");
        for (size_t j = 0; j < i; j++)
            cr_expect_str_neq(f->pairs[i].id, f->pairs[j].id, "pairs are distinct");
    }
    cr_expect_eq(f->count, sum, "the finding counts all its pairs");
    cr_expect_eq(f->objects, 1);
    cr_expect_eq(f->keys, 0);
    /* the representative is pairs[0], copied into the finding */
    cr_expect_str_eq(f->message, f->pairs[0].message);
    cr_expect_eq(f->access[0].stack[0].line, f->pairs[0].access[0].stack[0].line);
    char *text = text_of(&R);
    cr_expect(strstr(text, "seen 7 times at 7 site pairs)"), "%s", text);
    cr_expect(strstr(text, "  6 other site pairs:\n"), "%s", text);
    cr_expect(strstr(text, "nogilrace: 1 race found at 7 site pairs (1 observed, 0 potential)"), "%s", text);
    free(text);
}

/* The same race on 16 objects of one class (toolz's curry._should_curry gave one finding per
 * curried function): one finding, 16 objects, the two site pairs it was seen at. */
Test(grouping, sixteen_objects_of_one_class_are_one_finding)
{
    struct ngr_tg *g = fx_new();
    objects_of_a_class(g, 0x1000, 16, 2, 3);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_finding *f = &R.findings[0];
    cr_expect_str_eq(f->var_name, "toolz.curry()._should_curry");
    cr_expect_str_eq(f->var_kind, "obj_attr");
    cr_expect_eq(f->objects, 16);
    cr_expect_eq(f->npairs, 2, "__call__ and bind");
    cr_expect_eq(f->count, 16);
    char *text = text_of(&R);
    cr_expect(strstr(text, "  Seen on 16 objects\n"), "%s", text);
    free(text);
}

/* A closure variable is a cell per call of the function that owns it: three calls whose threads
 * lose updates of `count` are one finding, seen on three closures (not "objects": the user wrote
 * no object). */
Test(grouping, closures_of_one_function_are_one_finding)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "main.<locals>.w", 6);
    for (uint32_t i = 0; i < 3; i++)
        ngr_tg_var(g, 0x2000 + i, NGR_VAR_CLOSURE, "app.main.<locals>.count");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t a = 2 + 2 * i, b = a + 1;
        start_pair(g, a, b);
        fx_rmw(g, a, 0x2000 + i, 0, (uint64_t)a << 16 | i, s, 0);
        fx_rmw(g, b, 0x2000 + i, 0, (uint64_t)b << 16 | i, s, 0);
        join_pair(g, a, b);
    }
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_finding *f = &R.findings[0];
    cr_expect_eq(f->kind, NGR_FK_LOST_UPDATE);
    cr_expect_str_eq(f->var_name, "app.main.<locals>.count");
    cr_expect_str_eq(f->var_kind, "closure");
    cr_expect_eq(f->objects, 3);
    char *text = text_of(&R);
    cr_expect(strstr(text, "lost-update on app.main.<locals>.count (closure, "), "%s", text);
    cr_expect(strstr(text, "  Seen on 3 closures\n"), "%s", text);
    free(text);
}

/* Two kinds of race on one variable are two bugs (two fixes): a lost update at two site pairs,
 * then, after the threads were joined, a check-then-act at two site pairs. */
Test(grouping, two_kinds_on_one_variable_are_two_findings)
{
    struct ngr_tg *g = fx_new();
    uint32_t u1 = fx_at(g, "bump", 10), u2 = fx_at(g, "bump_more", 11);
    uint32_t c1 = fx_at(g, "get", 20), w1 = fx_at(g, "get", 21);
    uint32_t c2 = fx_at(g, "get_other", 30), w2 = fx_at(g, "get_other", 31);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    start_pair(g, 2, 3);
    fx_rmw(g, 2, X, 0, 0x20, u1, 0);
    fx_rmw(g, 3, X, 0, 0x30, u1, 0);
    fx_rmw(g, 2, X, 0, 0x21, u2, 0);
    fx_rmw(g, 3, X, 0, 0x31, u2, 0);
    join_pair(g, 2, 3);
    start_pair(g, 4, 5);
    /* `if x is None: x = make()`, the check far more often than the write */
    uint32_t cs[2] = {c1, c2}, ws[2] = {w1, w2};
    for (int k = 0; k < 2; k++) {
        uint64_t fr = 0x100 * (k + 1);
        ngr_tg_access(g, 4, NGR_ACC_READ, X, 0, fr, cs[k]);
        ngr_tg_access(g, 4, NGR_ACC_WRITE, X, 0, fr, ws[k]);
        for (uint64_t i = 1; i < 5; i++)
            ngr_tg_access(g, 4, NGR_ACC_READ, X, 0, fr + i, cs[k]);
        ngr_tg_access(g, 5, NGR_ACC_READ, X, 0, fr + 0x80, cs[k]);
        ngr_tg_access(g, 5, NGR_ACC_WRITE, X, 0, fr + 0x80, ws[k]);
    }
    join_pair(g, 4, 5);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 2, "found %s", fx_list(&R));
    const struct ngr_finding *lu = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    const struct ngr_finding *cta = fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.x");
    cr_assert(lu && cta, "found %s", fx_list(&R));
    cr_expect_str_neq(lu->id, cta->id);
    cr_expect_geq(lu->npairs, 2);
    cr_expect_geq(cta->npairs, 2);
    for (size_t i = 0; i < cta->npairs; i++) /* no check-then-act pair strayed into the other */
        cr_expect_geq(cta->pairs[i].access[0].stack[0].line, 20);
    for (size_t i = 0; i < lu->npairs; i++)
        cr_expect_lt(lu->pairs[i].access[0].stack[0].line, 20);
}

/* Containers known only by their type ("<dict>") do not all fold into one finding: two dicts
 * raced in one function are one bug (2 objects), a third raced in another function another. */
Test(grouping, anonymous_containers_group_by_their_code)
{
    struct ngr_tg *g = fx_new();
    for (uint32_t v = 50; v <= 52; v++)
        ngr_tg_var(g, v, NGR_VAR_CONTAINER, "<dict>");
    uint32_t f1 = fx_at(g, "tally", 12), f2 = fx_at(g, "other_tally", 44);
    fx_start2(g);
    for (uint32_t v = 50; v <= 52; v++) {
        uint32_t s = v < 52 ? f1 : f2;
        for (uint32_t t = 2; t <= 3; t++) {
            ngr_tg_access(g, t, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, v, 7, (uint64_t)t << 8 | v, s);
            ngr_tg_access(g, t, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, v, 7, (uint64_t)t << 8 | v, s);
        }
    }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 2, "found %s", fx_list(&R));
    const struct ngr_finding *a = &R.findings[0], *b = &R.findings[1];
    if (a->objects < b->objects) {
        const struct ngr_finding *t = a;
        a = b;
        b = t;
    }
    cr_expect_eq(a->objects, 2);
    cr_expect_str_eq(a->access[0].stack[0].function, "tally");
    cr_expect_eq(b->objects, 1);
    cr_expect_str_eq(b->access[0].stack[0].function, "other_tally");
    cr_expect_eq(a->keys, 1, "one key, 'user:1', in each dict");
    cr_expect_str_neq(a->id, b->id);
}

/* `if k not in cache: cache[k] = v` over many keys: one finding counting the keys, with a few of
 * them shown. */
Test(grouping, keys_are_counted_with_examples)
{
    struct ngr_tg *g = fx_new();
    for (uint64_t k = 100; k < 108; k++) {
        char repr[16];
        snprintf(repr, sizeof repr, "'k%u'", (unsigned)k);
        ngr_tg_key(g, k, NGR_KEY_STR, repr);
    }
    uint32_t c = fx_at(g, "lookup", 20), w = fx_at(g, "lookup", 21);
    fx_start2(g);
    for (uint64_t k = 100; k < 108; k++)
        for (uint32_t t = 2; t <= 3; t++) {
            ngr_tg_access(g, t, NGR_ACC_CONTAINS | NGR_ACC_FLAG_ATOMIC, D, k, t << 8 | k, c);
            ngr_tg_access(g, t, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, k, t << 8 | k, w);
        }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_finding *f = &R.findings[0];
    cr_expect_eq(f->keys, 8);
    cr_expect_eq(f->objects, 1);
    cr_assert_eq(f->nkey_examples, NGR_MAX_KEY_EXAMPLES);
    cr_expect_str_eq(f->key_examples[0], "'k100'");
    char *text = text_of(&R);
    cr_expect(strstr(text, "  Seen on 8 keys: 'k100', 'k101', 'k102', 'k103', 'k104', ...\n"), "%s", text);
    free(text);
}

/* ---- stable ids ------------------------------------------------------------------------------------- */

/* Two traces of one program: other var ids, stack ids, frame ids, thread numbers, and a run that
 * saw fewer site pairs and fewer objects.  The group ids are the same, and so are the ids of the
 * site pairs both saw; another variable name gives another id. */
Test(grouping, group_ids_are_stable_across_runs)
{
    struct ngr_tg *g = fx_new();
    global_at_sites(g, 40, 7, 2, 0, "app.py");
    struct ngr_report a = fx_analyse(g);
    g = fx_new();
    global_at_sites(g, 77, 3, 31, 9, "app.py");
    struct ngr_report b = fx_analyse(g);
    cr_assert_eq(a.nfindings, 1, "found %s", fx_list(&a));
    cr_assert_eq(b.nfindings, 1, "found %s", fx_list(&b));
    cr_expect_eq(a.findings[0].npairs, 7);
    cr_expect_eq(b.findings[0].npairs, 3);
    cr_expect_str_eq(a.findings[0].id, b.findings[0].id);
    size_t common = 0;
    for (size_t i = 0; i < b.findings[0].npairs; i++)
        for (size_t j = 0; j < a.findings[0].npairs; j++)
            common += strcmp(b.findings[0].pairs[i].id, a.findings[0].pairs[j].id) == 0;
    cr_expect_eq(common, 3, "the pairs both runs saw have one id");

    g = fx_new();
    objects_of_a_class(g, 0x1000, 16, 2, 3);
    struct ngr_report c = fx_analyse(g);
    g = fx_new();
    objects_of_a_class(g, 0x5000, 4, 7, 8);
    struct ngr_report d = fx_analyse(g);
    cr_assert_eq(c.nfindings, 1, "found %s", fx_list(&c));
    cr_assert_eq(d.nfindings, 1, "found %s", fx_list(&d));
    cr_expect_eq(c.findings[0].objects, 16);
    cr_expect_eq(d.findings[0].objects, 4);
    cr_expect_str_eq(c.findings[0].id, d.findings[0].id);
    cr_expect_str_neq(c.findings[0].id, a.findings[0].id);
    cr_expect_eq(strncmp(c.findings[0].id, "NGR-", 4), 0);
    cr_expect_eq(strlen(c.findings[0].id), 16);
    ngr_report_free(&a);
    ngr_report_free(&b);
    ngr_report_free(&c);
    ngr_report_free(&d);
}

/* The same bug in two processes (two traces): one finding, its pairs united, each pair once with
 * its counts summed, the objects of both processes counted. */
Test(grouping, groups_of_two_processes_merge)
{
    struct ngr_tg *g = fx_new();
    objects_of_a_class(g, 0x1000, 16, 2, 3);
    R = fx_analyse(g);
    g = fx_new();
    objects_of_a_class(g, 0x1000, 4, 2, 3);
    struct ngr_report b = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1);
    cr_assert_eq(b.nfindings, 1);
    ngr_report_merge_finding(&R, &b.findings[0]);
    b.nfindings = 0;
    ngr_report_free(&b);
    cr_assert_eq(R.nfindings, 1);
    const struct ngr_finding *f = &R.findings[0];
    cr_expect_eq(f->npairs, 2);
    cr_expect_eq(f->count, 20);
    cr_expect_eq(f->objects, 20);
    cr_expect_eq(f->pairs[0].count + f->pairs[1].count, 20);
}

/* ---- suppression per site pair ----------------------------------------------------------------------- */

static struct ngr_suppressions *rules(const char *text)
{
    char err[256];
    struct ngr_suppressions *s = ngr_suppress_parse("t.supp", text, strlen(text), err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    ngr_suppress_set_inline(s, false);
    return s;
}

static bool has_function(const struct ngr_finding *f, const char *fn)
{
    for (size_t i = 0; i < f->npairs; i++)
        for (int k = 0; k < 2; k++)
            if (!strcmp(f->pairs[i].access[k].stack[0].function, fn))
                return true;
    return false;
}

/* A rule on one pair's code suppresses that pair: the finding stays with the other six (counted
 * as pairs suppressed, not as a suppressed finding), its representative taken from what is
 * left; a rule on the group suppresses all of it. */
Test(grouping, suppressing_one_site_pair_keeps_the_rest)
{
    /* the pair of the representative's read */
    char fn[64];
    snprintf(fn, sizeof fn, "function:%s\n", global_finding(7)->access[0].stack[0].function);
    struct ngr_suppressions *s = rules(fn);
    cr_expect_eq(ngr_suppress_apply(s, &R), 0);
    ngr_suppress_free(s);
    cr_assert_eq(R.nfindings, 1);
    const struct ngr_finding *f = &R.findings[0];
    cr_expect_eq(f->npairs, 6);
    cr_expect_eq(R.suppressed, 0);
    cr_expect_eq(R.suppressed_pairs, 1);
    fn[strlen(fn) - 1] = 0;
    cr_expect_not(has_function(f, fn + strlen("function:")), "%s", fn);
    cr_expect_eq(f->count, 6);
    cr_expect_str_eq(f->message, f->pairs[0].message, "a representative that is still there");
    cr_expect_str_neq(f->access[0].stack[0].function, fn + strlen("function:"));

    /* race: with one pair's own id (the finding id of schema 1-2): that pair */
    char rule[64];
    snprintf(rule, sizeof rule, "race:%s\n", f->pairs[2].id);
    s = rules(rule);
    cr_expect_eq(ngr_suppress_apply(s, &R), 0);
    ngr_suppress_free(s);
    cr_expect_eq(R.findings[0].npairs, 5);
    cr_expect_eq(R.suppressed_pairs, 2);
    char *text = text_of(&R);
    cr_expect(strstr(text, "1 race found at 5 site pairs (1 observed, 0 potential), 2 site pairs of the races "
                           "above suppressed;"), "%s", text);
    free(text);

    /* race: with the group's id: all of it */
    snprintf(rule, sizeof rule, "race:%s\n", R.findings[0].id);
    s = rules(rule);
    cr_expect_eq(ngr_suppress_apply(s, &R), 1);
    ngr_suppress_free(s);
    cr_expect_eq(R.nfindings, 0);
    cr_expect_eq(R.suppressed, 1);
}

/* `# nogilrace: ignore` on one pair's line suppresses that pair only; on every pair's line, the
 * finding. */
Test(grouping, ignore_comment_suppresses_its_pair)
{
    char dir[] = "/tmp/ngr-grouping-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/app.py", dir);
    FILE *src = fopen(path, "w");
    cr_assert_not_null(src);
    for (int line = 1; line <= 20; line++) /* line 10 + i: step i */
        fprintf(src, "x = 1%s\n", line == 12 ? "  # nogilrace: ignore[lost-update]" : "");
    fclose(src);

    struct ngr_tg *g = fx_new();
    global_at_sites(g, 40, 4, 2, 0, path);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1, "found %s", fx_list(&R));
    cr_assert_eq(R.findings[0].npairs, 4);
    struct ngr_suppressions *sup = ngr_suppress_load(NULL, NULL, 0);
    cr_assert_not_null(sup);
    cr_expect_eq(ngr_suppress_apply(sup, &R), 0);
    ngr_suppress_free(sup);
    cr_assert_eq(R.nfindings, 1);
    cr_expect_eq(R.findings[0].npairs, 3);
    cr_expect_eq(R.suppressed_pairs, 1);
    for (size_t i = 0; i < R.findings[0].npairs; i++)
        for (int k = 0; k < 2; k++)
            cr_expect_neq(R.findings[0].pairs[i].access[k].stack[0].line, 12);

    /* the kinds in brackets are honoured per pair too: another kind's comment hides nothing */
    src = fopen(path, "w");
    cr_assert_not_null(src);
    for (int line = 1; line <= 20; line++)
        fprintf(src, "x = 1%s\n", line >= 10 ? "  # nogilrace: ignore[check-then-act]" : "");
    fclose(src);
    sup = ngr_suppress_load(NULL, NULL, 0);
    cr_expect_eq(ngr_suppress_apply(sup, &R), 0);
    cr_expect_eq(R.findings[0].npairs, 3);
    ngr_suppress_free(sup);
    /* and on every pair's line, the whole finding */
    src = fopen(path, "w");
    cr_assert_not_null(src);
    for (int line = 1; line <= 20; line++)
        fprintf(src, "x = 1  # nogilrace: ignore\n");
    fclose(src);
    sup = ngr_suppress_load(NULL, NULL, 0);
    cr_expect_eq(ngr_suppress_apply(sup, &R), 1);
    cr_expect_eq(R.nfindings, 0);
    cr_expect_eq(R.suppressed, 1);
    ngr_suppress_free(sup);
    unlink(path);
    rmdir(dir);
}

/* ---- the text block ------------------------------------------------------------------------------- */

/* One block per group: the representative's stacks, then one line per other pair (at most ten,
 * the rest counted), then the objects and keys. */
Test(grouping, text_block_lists_other_pairs_compactly)
{
    struct ngr_finding *f = fx_add(&R, "NGR-00000000abcd", NGR_FK_CHECK_THEN_ACT, true, "app.cache", NULL, 0);
    for (unsigned i = 0; i < 13; i++) {
        char id[20];
        snprintf(id, sizeof id, "NGR-%012x", i + 1);
        fx_add_pair(f, id, i < 12, 100 - i, "'k'", "/src/app.py", 10 + i, "fill", 60, "evict");
    }
    f->objects = 3;
    f->keys = 7;
    f->key_examples = ngr_xcalloc(NGR_MAX_KEY_EXAMPLES, sizeof *f->key_examples);
    f->key_examples[f->nkey_examples++] = ngr_xstrdup("'k'");
    f->key_examples[f->nkey_examples++] = ngr_xstrdup("'j\n'");
    ngr_group_settle(f);
    char *text = text_of(&R);
    cr_expect(strstr(text, "seen 1222 times at 13 site pairs)  [NGR-00000000abcd]\n"), "%s", text);
    cr_expect(strstr(text, "  12 other site pairs:\n"
                           "    Read at fill /src/app.py:11, Write at evict /src/app.py:60 (observed, 99 times)\n"), "%s", text);
    cr_expect(strstr(text, "    Read at fill /src/app.py:22, Write at evict /src/app.py:60 (potential, 88 times)\n") == NULL,
              "the 13th pair is past the ten listed: %s", text);
    cr_expect(strstr(text, "    ... and 2 more (--format=json lists them all)\n"), "%s", text);
    cr_expect(strstr(text, "  Seen on 3 objects and 7 keys: 'k', 'j\\n', ...\n  Fix: "), "%s", text);
    free(text);
}
