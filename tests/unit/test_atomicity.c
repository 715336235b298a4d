/* test_atomicity.c — classification of read-modify-write windows: lost-update, check-then-act,
 * iteration-during-mutation; double-checked locking stays quiet; ids are stable. */
#include "analysis_fixture.h"

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(atomicity, .fini = fini);

/* `counts[k] += 1` on a dict item, atomic get and atomic set on one line: lost-update on the item. */
Test(atomicity, dict_item_increment_is_lost_update)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "count", 12);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++) {
        ngr_tg_access(g, t, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, D, 7, t, s);
        ngr_tg_access(g, t, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 7, t, s);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.cache['user:1']");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_str_eq(f->var_name, "app.cache");
    cr_expect_str_eq(f->key, "'user:1'");
    cr_expect_str_eq(f->var_kind, "container");
    cr_expect_eq(f->access[0].depth, 1);
    cr_expect_str_eq(f->access[0].stack[0].function, "count");
    cr_expect_eq(f->access[0].stack[0].line, 12);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
}

/* `if k not in d: d[k] = v` — a membership test opens the window: check-then-act. */
Test(atomicity, contains_then_write_is_check_then_act)
{
    struct ngr_tg *g = fx_new();
    uint32_t c = fx_at(g, "lookup", 20), w = fx_at(g, "lookup", 21);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++) {
        ngr_tg_access(g, t, NGR_ACC_CONTAINS | NGR_ACC_FLAG_ATOMIC, D, 7, t, c);
        ngr_tg_access(g, t, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 7, t, w);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_not_null(fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.cache['user:1']"), "found %s", fx_list(&R));
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
}

/* `if x is None: x = make()` called repeatedly: the check runs far more often than the write. */
Test(atomicity, none_check_is_check_then_act)
{
    struct ngr_tg *g = fx_new();
    uint32_t c = fx_at(g, "get", 16), w = fx_at(g, "get", 17);
    fx_start2(g);
    ngr_tg_access(g, 2, NGR_ACC_READ, X, 0, 0x20, c);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, X, 0, 0x20, w);
    for (uint64_t i = 1; i < 5; i++)
        ngr_tg_access(g, 2, NGR_ACC_READ, X, 0, 0x20 + i, c);
    ngr_tg_access(g, 3, NGR_ACC_READ, X, 0, 0x30, c);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, X, 0, 0x30, w);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_not_null(fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.x"), "found %s", fx_list(&R));
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
}

/* `old = x` ... `x = f(old)` on two lines, every time: lost-update, not check-then-act. */
Test(atomicity, copy_then_store_is_lost_update)
{
    struct ngr_tg *g = fx_new();
    uint32_t r = fx_at(g, "enter", 492), w = fx_at(g, "enter", 493);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++)
        for (uint64_t i = 0; i < 3; i++) {
            ngr_tg_access(g, t, NGR_ACC_READ, X, 0, (uint64_t)t << 8 | i, r);
            ngr_tg_access(g, t, NGR_ACC_WRITE, X, 0, (uint64_t)t << 8 | i, w);
        }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_not_null(fx_find(&R, NGR_FK_LOST_UPDATE, "app.x"), "found %s", fx_list(&R));
    cr_expect_null(fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.x"), "found %s", fx_list(&R));
}

static void dcl(bool recheck_under_lock)
{
    struct ngr_tg *g = fx_new();
    uint32_t c1 = fx_at(g, "get", 10), c2 = fx_at(g, "get", 12), w = fx_at(g, "get", 13);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++) {
        uint64_t frame = t;
        ngr_tg_access(g, t, NGR_ACC_READ, X, 0, frame, c1); /* if x is None: (no lock) */
        ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, L1, 0, 0);     /*   with lock: */
        if (recheck_under_lock)
            ngr_tg_access(g, t, NGR_ACC_READ, X, 0, frame, c2); /* if x is None: */
        ngr_tg_access(g, t, NGR_ACC_WRITE, X, 0, frame, w);      /*     x = make() */
        ngr_tg_sync(g, t, NGR_SYNC_RELEASE, L1, 0, 0);
    }
    fx_finish2(g);
    R = fx_analyse(g);
}

/* Double-checked locking: the check repeated under the lock makes the write safe. */
Test(atomicity, double_checked_locking_is_quiet)
{
    dcl(true);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* Without the second check, the unlocked check decides the write: check-then-act. */
Test(atomicity, single_unlocked_check_reports)
{
    dcl(false);
    cr_expect_not_null(fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.x"), "found %s", fx_list(&R));
}

static void iteration(uint64_t lock)
{
    struct ngr_tg *g = fx_new();
    uint32_t it = fx_at(g, "notify_all", 30), ap = fx_at(g, "register", 40);
    fx_start2(g);
    if (lock)
        ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE, lock, 0, 0);
    ngr_tg_access(g, 2, NGR_ACC_ITER_BEGIN, D, 0, 0x20, it);
    ngr_tg_access(g, 2, NGR_ACC_ITER_END, D, 0, 0x20, it);
    if (lock)
        ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, lock, 0, 0);
    if (lock)
        ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, lock, 0, 0);
    ngr_tg_access(g, 3, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 7, 0x30, ap);
    if (lock)
        ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, lock, 0, 0);
    fx_finish2(g);
    R = fx_analyse(g);
}

/* One thread iterates the dict while another stores an item: iteration-during-mutation. */
Test(atomicity, iteration_during_mutation)
{
    iteration(0);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_ITERATION_DURING_MUTATION, "app.cache");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_str_eq(f->access[0].op, "iter_begin");
    cr_expect_str_eq(f->access[1].op, "write");
    cr_expect(f->access[1].atomic);
}

Test(atomicity, iteration_under_the_mutators_lock_is_quiet)
{
    iteration(L1);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* An atomic snapshot (`list(d)`, `d.copy()`: one operation under the dict's lock) while another
 * thread stores an item: a read of the whole container, no iteration to run into. */
Test(atomicity, atomic_snapshot_is_not_an_iteration)
{
    struct ngr_tg *g = fx_new();
    uint32_t sn = fx_at(g, "snapshot", 30), ap = fx_at(g, "register", 40);
    fx_start2(g);
    ngr_tg_access(g, 2, NGR_ACC_ITER_BEGIN | NGR_ACC_FLAG_ATOMIC, D, 0, 0x20, sn);
    ngr_tg_access(g, 2, NGR_ACC_ITER_END | NGR_ACC_FLAG_ATOMIC, D, 0, 0x20, sn);
    ngr_tg_access(g, 3, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 7, 0x30, ap);
    ngr_tg_access(g, 2, NGR_ACC_ITER_BEGIN | NGR_ACC_FLAG_ATOMIC, D, 0, 0x21, sn);
    ngr_tg_access(g, 2, NGR_ACC_ITER_END | NGR_ACC_FLAG_ATOMIC, D, 0, 0x21, sn);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* `if len(d) > N: del d[k]` in two threads (the size check of a hand-written LRU, then evict): a
 * read of the whole container, then a key's delete in the same activation, unprotected, while
 * the other thread deletes a key too: check-then-act on the container. */
static void size_check_then_evict(uint64_t lock)
{
    struct ngr_tg *g = fx_new();
    ngr_tg_key(g, 8, NGR_KEY_STR, "'user:2'");
    uint32_t chk = fx_at(g, "evict", 50), del = fx_at(g, "evict", 51);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++) {
        if (lock)
            ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, lock, 0, 0);
        ngr_tg_access(g, t, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, D, 0, (uint64_t)t << 8, chk);
        ngr_tg_access(g, t, NGR_ACC_DELETE | NGR_ACC_FLAG_ATOMIC, D, 6 + t, (uint64_t)t << 8, del);
        if (lock)
            ngr_tg_sync(g, t, NGR_SYNC_RELEASE, lock, 0, 0);
    }
    fx_finish2(g);
    R = fx_analyse(g);
}

Test(atomicity, size_check_then_delete_is_check_then_act_on_the_container)
{
    size_check_then_evict(0);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.cache");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_str_eq(f->access[0].op, "read");
    cr_expect_eq(f->access[0].stack[0].line, 50);
    cr_expect_str_eq(f->access[1].op, "delete");
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
}

Test(atomicity, size_check_then_delete_under_one_lock_is_quiet)
{
    size_check_then_evict(L1);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* The id depends on names and code sites only: different var ids, stack ids and frame ids for
 * the same program give the same id; another variable gives another. */
static void build_named(struct ngr_tg *g, uint32_t var, const char *name)
{
    ngr_tg_var(g, var, NGR_VAR_GLOBAL, name);
    uint32_t pad = fx_at(g, "unused", 1);
    (void)pad;
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    fx_rmw(g, 2, var, 0, 0x77, s, 0);
    fx_rmw(g, 3, var, 0, 0x99, s, 0);
    fx_finish2(g);
}

Test(atomicity, ids_are_stable)
{
    struct ngr_tg *g = fx_new();
    build_named(g, 40, "app.counter");
    struct ngr_report a = fx_analyse(g);
    g = fx_new();
    build_named(g, 41, "app.counter");
    struct ngr_report b = fx_analyse(g);
    g = fx_new();
    build_named(g, 40, "app.other");
    R = fx_analyse(g);
    cr_assert_eq(a.nfindings, 1, "found %s", fx_list(&a));
    cr_assert_eq(b.nfindings, 1);
    cr_assert_eq(R.nfindings, 1);
    cr_expect_str_eq(a.findings[0].id, b.findings[0].id);
    cr_expect_str_neq(a.findings[0].id, R.findings[0].id);
    cr_expect_eq(strncmp(a.findings[0].id, "NGR-", 4), 0);
    ngr_report_free(&a);
    ngr_report_free(&b);
}

/* `if k not in cache: cache[k] = v` over many keys is one finding (same kind, variable and code
 * sites), counted over all keys, shown with one of them. */
Test(atomicity, keys_of_one_variable_merge)
{
    struct ngr_tg *g = fx_new();
    ngr_tg_key(g, 8, NGR_KEY_STR, "'user:2'");
    uint32_t c = fx_at(g, "lookup", 20), w = fx_at(g, "lookup", 21);
    fx_start2(g);
    for (uint64_t k = 7; k <= 8; k++)
        for (uint32_t t = 2; t <= 3; t++) {
            ngr_tg_access(g, t, NGR_ACC_CONTAINS | NGR_ACC_FLAG_ATOMIC, D, k, t << 4 | k, c);
            ngr_tg_access(g, t, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, k, t << 4 | k, w);
        }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_assert_eq(R.nfindings, 1, "found %s", fx_list(&R));
    cr_expect_eq(R.findings[0].kind, NGR_FK_CHECK_THEN_ACT);
    cr_expect_str_eq(R.findings[0].var_name, "app.cache");
    cr_expect_not_null(R.findings[0].key);
    cr_expect_eq(R.findings[0].count, 2);
}

/* `if k in d: del d[k]` in one thread, `d.clear()` in another: the clear writes every key. */
Test(atomicity, clear_writes_every_key)
{
    struct ngr_tg *g = fx_new();
    uint32_t c = fx_at(g, "expire", 5), w = fx_at(g, "expire", 6), cl = fx_at(g, "reset", 30);
    fx_start2(g);
    ngr_tg_access(g, 3, NGR_ACC_CLEAR | NGR_ACC_FLAG_ATOMIC, D, 0, 0x30, cl);
    ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, L2, 0, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, L2, 0, 0);
    ngr_tg_access(g, 2, NGR_ACC_CONTAINS | NGR_ACC_FLAG_ATOMIC, D, 7, 0x20, c);
    ngr_tg_access(g, 2, NGR_ACC_DELETE | NGR_ACC_FLAG_ATOMIC, D, 7, 0x20, w);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_CHECK_THEN_ACT, "app.cache['user:1']");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_str_eq(f->access[1].op, "clear");
}
