/* test_lockset.c — the lockset half of the analysis: consistently locked updates are quiet;
 * different locks, dropped locks, no locks are findings; atomic container operations alone are not. */
#include "analysis_fixture.h"

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(lockset, .fini = fini);

/* `with lock: x += 1` in two threads: the same lock held across every update. */
Test(lockset, same_lock_is_quiet)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    for (uint64_t i = 0; i < 3; i++) {
        fx_rmw(g, 2, X, 0, 0x20 + i, s, L1);
        fx_rmw(g, 3, X, 0, 0x30 + i, s, L1);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
    cr_expect_eq(R.processes, 1);
    cr_expect_gt(R.events, 12);
}

/* The same updates with one thread under a different lock: a lost update. */
Test(lockset, different_locks_lose_updates)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "bill", 8), s2 = fx_at(g, "refund", 14);
    fx_start2(g);
    for (uint64_t i = 0; i < 3; i++) {
        fx_rmw(g, 2, X, 0, 0x20 + i, s, L1);
        fx_rmw(g, 3, X, 0, 0x30 + i, s2, L2);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    /* both accesses carry their thread and the lock each held */
    cr_expect_eq(f->access[0].nlocks, 1);
    cr_expect_eq(f->access[1].nlocks, 1);
    cr_expect_neq(f->access[0].thread, f->access[1].thread);
    cr_expect_str_neq(f->access[0].locks[0], f->access[1].locks[0]);
}

/* Read under the lock, lock dropped, write under a second acquisition: every access is locked,
 * and still the read-modify-write is not atomic. */
Test(lockset, lock_released_too_early)
{
    struct ngr_tg *g = fx_new();
    uint32_t rd = fx_at(g, "withdraw", 15), wr = fx_at(g, "withdraw", 18);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++)
        for (uint64_t i = 0; i < 2; i++) {
            uint64_t frame = (uint64_t)t << 8 | i;
            ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, L1, 0, 0);
            ngr_tg_access(g, t, NGR_ACC_READ, X, 0, frame, rd);
            ngr_tg_sync(g, t, NGR_SYNC_RELEASE, L1, 0, 0);
            ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, L1, 0, 0);
            ngr_tg_access(g, t, NGR_ACC_WRITE, X, 0, frame, wr);
            ngr_tg_sync(g, t, NGR_SYNC_RELEASE, L1, 0, 0);
        }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_not_null(fx_find(&R, NGR_FK_LOST_UPDATE, "app.x"), "found %s", fx_list(&R));
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
}

/* Plain stores from two threads, no lock, no read: unprotected-write. */
Test(lockset, unprotected_write)
{
    struct ngr_tg *g = fx_new();
    uint32_t s2 = fx_at(g, "stage", 9), s3 = fx_at(g, "stage", 9);
    fx_start2(g);
    /* accesses are ordered only up to their thread's next sync record: an unrelated lock taken
     * and dropped after each write fixes the interleaving W2 W3 W2 */
    ngr_tg_access(g, 2, NGR_ACC_WRITE, X, 0, 0x21, s2);
    ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE, L2, 0, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, L2, 0, 0);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, X, 0, 0x31, s3);
    ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, L2, 0, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, L2, 0, 0);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, X, 0, 0x22, s2);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    cr_expect_eq(f->count, 2);
    cr_expect_str_eq(f->access[0].thread_name, "worker-0");
    cr_expect_str_eq(f->access[1].thread_name, "worker-1");
}

/* `d[k] = v` / `lst.append(x)` from two threads without a lock: atomic, not a finding alone. */
Test(lockset, atomic_container_ops_are_quiet)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "put", 5);
    fx_start2(g);
    for (uint64_t i = 0; i < 3; i++) {
        ngr_tg_access(g, 2, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 7, 0x20 + i, s);
        ngr_tg_access(g, 3, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 7, 0x30 + i, s);
        ngr_tg_access(g, 3, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, D, 0, 0x30 + i, s);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* RLock taken twice, released once: still held for the update; the counted depth matters. */
Test(lockset, rlock_depth_counts)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "inc", 6);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++) {
        ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, L1, 0, 0);
        ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, L1, 0, 0);
        ngr_tg_sync(g, t, NGR_SYNC_RELEASE, L1, 0, 0);
        ngr_tg_access(g, t, NGR_ACC_READ, X, 0, t, s);
        ngr_tg_access(g, t, NGR_ACC_WRITE, X, 0, t, s);
        ngr_tg_sync(g, t, NGR_SYNC_RELEASE, L1, 0, 0);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* Condition.wait on an RLock: RELEASE_ALL drops the lock mid-window, so a read before the wait
 * and a write after it are not protected across. */
Test(lockset, release_all_breaks_the_window)
{
    struct ngr_tg *g = fx_new();
    uint32_t rd = fx_at(g, "take", 20), wr = fx_at(g, "take", 20);
    fx_start2(g);
    for (uint32_t t = 2; t <= 3; t++) {
        ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE, L1, 0, 0);
        ngr_tg_access(g, t, NGR_ACC_READ, X, 0, t, rd);
        ngr_tg_sync(g, t, NGR_SYNC_RELEASE_ALL, L1, 1, 0);
        ngr_tg_sync(g, t, NGR_SYNC_ACQUIRE_ALL, L1, 1, 0);
        ngr_tg_access(g, t, NGR_ACC_WRITE, X, 0, t, wr);
        ngr_tg_sync(g, t, NGR_SYNC_RELEASE, L1, 0, 0);
    }
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_not_null(fx_find(&R, NGR_FK_LOST_UPDATE, "app.x"), "found %s", fx_list(&R));
}
