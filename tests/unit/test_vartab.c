/* test_vartab.c — the variable table keeps identities apart even when their slots carry the same
 * tag (the prefetch stage trusts tags; the run stage must check the record and correct it). */
#include "analysis_fixture.h"
#include "analysis_int.h"

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(vartab, .fini = fini);

/* Identities (va, ka) and (vb, kb), not the same one, whose hashes agree in their top 32 bits
 * (the slot tag); found by a birthday search among scattered key ids (sequential ids spread too
 * evenly under a multiplicative hash to collide): 2^18 keys of va in a table by tag, then keys of
 * vb until one meets a tag there. */
static void colliding(uint32_t va, uint32_t vb, uint64_t *ka, uint64_t *kb)
{
    enum { N = 1 << 18 };
    uint64_t *seen = calloc(N * 2, sizeof *seen); /* open addressing: tag -> key of va (0 = empty) */
    uint32_t *tags = calloc(N * 2, sizeof *tags);
    cr_assert(seen && tags);
    for (uint64_t i = 1; i < N; i++) {
        uint64_t k = ngr_mix64(i) | 1;
        uint32_t tag = (uint32_t)(var_hash(va, k) >> 32);
        size_t j = tag & (N * 2 - 1);
        while (seen[j])
            j = (j + 1) & (N * 2 - 1);
        seen[j] = k;
        tags[j] = tag;
    }
    for (uint64_t i = 1; i < ((uint64_t)N << 4); i++) {
        uint64_t k = ngr_mix64(i ^ 0x5bd1e995) | 1;
        uint32_t tag = (uint32_t)(var_hash(vb, k) >> 32);
        for (size_t j = tag & (N * 2 - 1); seen[j]; j = (j + 1) & (N * 2 - 1)) {
            if (tags[j] == tag && (va != vb || seen[j] != k)) {
                *ka = seen[j];
                *kb = k;
                free(seen);
                free(tags);
                return;
            }
        }
    }
    cr_assert_fail("no key of %u shares a tag with one of %u", vb, va);
}

/* Thread 2 writes D[ka] and thread 3 writes D[kb], four times each, plain (non-atomic) writes
 * with no lock; the report goes to R. */
static void analyse_two_writers(uint64_t ka, uint64_t kb)
{
    struct ngr_tg *g = fx_new();
    ngr_tg_key(g, ka, NGR_KEY_STR, "'a'");
    if (kb != ka)
        ngr_tg_key(g, kb, NGR_KEY_STR, "'b'");
    uint32_t s2 = fx_at(g, "fill_a", 5), s3 = fx_at(g, "fill_b", 9);
    fx_start2(g);
    for (uint64_t i = 0; i < 4; i++) {
        ngr_tg_access(g, 2, NGR_ACC_WRITE, D, ka, 0x200 + i, s2);
        ngr_tg_access(g, 3, NGR_ACC_WRITE, D, kb, 0x300 + i, s3);
    }
    fx_finish2(g);
    R = fx_analyse(g);
}

/* Two keys with the same slot tag: two different variables, each written by one thread, so
 * nothing to report.  Taken for one variable they would be an unprotected write. */
Test(vartab, same_tag_different_identities)
{
    uint64_t k1, k2;
    colliding(D, D, &k1, &k2);
    cr_assert_eq(var_hash(D, k1) >> 32, var_hash(D, k2) >> 32);
    analyse_two_writers(k1, k2);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* The control: the same writes to one key from both threads are an unprotected write — so the
 * test above would see the confusion if the table made it. */
Test(vartab, same_key_is_a_finding)
{
    uint64_t k1, k2;
    colliding(D, D, &k1, &k2);
    analyse_two_writers(k1, k1);
    cr_expect_not_null(fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.cache['a']"), "found %s", fx_list(&R));
}

/* Many identities (the table grows and re-inserts by tag many times): each container key is
 * written by one thread only, except one key both threads write. */
Test(vartab, growth_keeps_identities)
{
    struct ngr_tg *g = ngr_tg_new(1 << 20);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED, "3.13.5", "python app.py");
    ngr_tg_var(g, D, NGR_VAR_CONTAINER, "app.cache");
    ngr_tg_key(g, 777, NGR_KEY_STR, "'shared'");
    uint32_t s2 = ngr_tg_stack1(g, "app.py", "fill_a", 5), s3 = ngr_tg_stack1(g, "app.py", "fill_b", 9);
    fx_start2(g);
    for (uint64_t k = 1000; k < 21000; k++)
        ngr_tg_access(g, k % 2 ? 2 : 3, NGR_ACC_WRITE, D, k, k, k % 2 ? s2 : s3);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, D, 777, 1, s2);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, D, 777, 2, s3);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    cr_expect_not_null(fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.cache['shared']"), "found %s", fx_list(&R));
}

/* The first access of a container (so it has no container facts yet) whose key shares its tag
 * with a record of another container: the prefetch stage's guess is the other record and finds
 * no facts for the new container; the run stage must use the facts its own lookup made (a
 * nogilrace report once crashed here, about one run in a thousand of a corpus program).  Each
 * key is then written by both threads: one finding per container, each under its own name. */
Test(vartab, same_tag_new_container)
{
    enum { OTHER = 2 }; /* below D, so the table of container facts already covers it */
    uint64_t ka, kb;
    colliding(D, OTHER, &ka, &kb);
    cr_assert_eq(var_hash(D, ka) >> 32, var_hash(OTHER, kb) >> 32);
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED, "3.13.5", "python app.py");
    ngr_tg_var(g, D, NGR_VAR_CONTAINER, "app.cache");
    ngr_tg_var(g, OTHER, NGR_VAR_CONTAINER, "app.other");
    ngr_tg_key(g, ka, NGR_KEY_STR, "'a'");
    ngr_tg_key(g, kb, NGR_KEY_STR, "'b'");
    uint32_t s2 = ngr_tg_stack1(g, "app.py", "fill_a", 5), s3 = ngr_tg_stack1(g, "app.py", "fill_b", 9);
    fx_start2(g);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, D, ka, 0x200, s2);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, OTHER, kb, 0x300, s3);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, D, ka, 0x301, s3);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, OTHER, kb, 0x201, s2);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 2, "found %s", fx_list(&R));
    cr_expect_not_null(fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.cache['a']"), "found %s", fx_list(&R));
    cr_expect_not_null(fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.other['b']"), "found %s", fx_list(&R));
}
