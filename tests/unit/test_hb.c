/* test_hb.c — the happens-before half: initialisation before threads start, fork/join phases,
 * hand-off through a queue and publication through an event are quiet; the same accesses without
 * the edge are findings (each quiet test has a control that must report). */
#include "analysis_fixture.h"

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(hb, .fini = fini);

/* Main writes x before starting the workers; one worker then updates it alone. */
Test(hb, init_before_threads_is_quiet)
{
    struct ngr_tg *g = fx_new();
    uint32_t s0 = fx_at(g, "<module>", 3), s = fx_at(g, "work", 8);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x10, s0);
    ngr_tg_access(g, 1, NGR_ACC_READ, X, 0, 0x10, s0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x10, s0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 0);
    fx_rmw(g, 2, X, 0, 0x20, s, 0);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* The child's BEGIN can come before the parent's SPAWN (SPAWN is written after pthread_create
 * returns): the child still starts after everything the parent did before. */
Test(hb, begin_before_spawn_still_orders)
{
    struct ngr_tg *g = fx_new();
    uint32_t s0 = fx_at(g, "<module>", 3), s = fx_at(g, "work", 8);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_READ, X, 0, 0x10, s0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x10, s0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    fx_rmw(g, 2, X, 0, 0x20, s, 0);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* Phase 1: worker 2 updates x; main joins it; phase 2: worker 3 (started after the join) and then
 * main update x.  Every update is ordered after the previous one. */
Test(hb, fork_join_phases_are_quiet)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "work", 8), s0 = fx_at(g, "main", 30);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    fx_rmw(g, 2, X, 0, 0x20, s, 0);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    fx_rmw(g, 1, X, 0, 0x10, s0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 0);
    fx_rmw(g, 3, X, 0, 0x30, s, 0);
    ngr_tg_thread(g, 3, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 3, 0);
    fx_rmw(g, 1, X, 0, 0x11, s0, 0);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* Two workers each update x with nothing ordering them: the control for the tests above. */
Test(hb, concurrent_updates_are_observed)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "work", 8);
    fx_start2(g);
    fx_rmw(g, 2, X, 0, 0x20, s, 0);
    fx_rmw(g, 3, X, 0, 0x30, s, 0);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_LOST_UPDATE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
    cr_expect_eq(f->severity, NGR_SEV_ERROR);
}

static void handoff(bool with_edge)
{
    struct ngr_tg *g = fx_new();
    uint32_t sp = fx_at(g, "produce", 10), sc = fx_at(g, "consume", 20);
    fx_start2(g);
    fx_rmw(g, 2, Y, 0, 0x20, sp, 0);
    if (with_edge)
        ngr_tg_sync(g, 2, NGR_SYNC_SEND, Q, 0, 0);  /* q.put(obj) */
    else
        ngr_tg_sync(g, 2, NGR_SYNC_SEND, EV, 0, 0); /* something unrelated */
    ngr_tg_sync(g, 3, NGR_SYNC_RECV, Q, 0, 0);      /* q.get() */
    fx_rmw(g, 3, Y, 0, 0x30, sc, 0);
    fx_finish2(g);
    R = fx_analyse(g);
}

/* Ownership handed off through a queue: the consumer's update is after the producer's. */
Test(hb, queue_handoff_is_quiet)
{
    handoff(true);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

Test(hb, queue_handoff_control_reports)
{
    handoff(false);
    cr_expect_not_null(fx_find(&R, NGR_FK_LOST_UPDATE, "app.y"), "found %s", fx_list(&R));
}

/* Event publication: main fills the value and sets the event; workers wait, then update it in
 * turn through the same event edge chain (worker 2 sets a second event worker 3 waits on). */
Test(hb, event_publication_is_quiet)
{
    struct ngr_tg *g = fx_new();
    uint32_t s0 = fx_at(g, "main", 5), s = fx_at(g, "work", 8);
    fx_start2(g);
    fx_rmw(g, 1, X, 0, 0x10, s0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_SEND, EV, 0, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_RECV, EV, 0, 0);
    fx_rmw(g, 2, X, 0, 0x20, s, 0);
    ngr_tg_sync(g, 2, NGR_SYNC_SEND, Q, 0, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_RECV, Q, 0, 0);
    fx_rmw(g, 3, X, 0, 0x30, s, 0);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* Ordered by an event in this run, but the writes hold no common lock and a third access is
 * concurrent: the finding is reported as potential, not observed. */
Test(hb, ordered_but_unlocked_is_potential)
{
    struct ngr_tg *g = fx_new();
    uint32_t s = fx_at(g, "work", 8), s1 = fx_at(g, "peek", 40);
    fx_start2(g);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, X, 0, 0x20, s);
    ngr_tg_sync(g, 2, NGR_SYNC_SEND, EV, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_READ, X, 0, 0x10, s1); /* main reads, unordered with both */
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, L2, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, L2, 0, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_RECV, EV, 0, 0);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, X, 0, 0x30, s);
    fx_finish2(g);
    R = fx_analyse(g);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect_not(f->observed);
    cr_expect_eq(f->severity, NGR_SEV_WARNING);
}

/* Main initialises x without a lock, then starts two workers that use it under one lock; one of
 * them only reads it (so ownership is not provable), the other updates it.  The initialising
 * write was made before either worker existed: it can never fall inside the update, so nothing is
 * reported (it once came out as a "potential" lost update, pytest-run-parallel about 1 run in 60). */
Test(hb, init_write_before_spawn_never_conflicts)
{
    struct ngr_tg *g = fx_new();
    uint32_t s0 = fx_at(g, "<module>", 6), sr = fx_at(g, "peek", 20), s = fx_at(g, "add", 16);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x10, s0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 0);
    ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, L1, 0, 0);
    ngr_tg_access(g, 3, NGR_ACC_READ, X, 0, 0x30, sr);
    ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, L1, 0, 0);
    fx_rmw(g, 2, X, 0, 0x20, s, L1);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

/* Control: the same, but main writes x without the lock after the workers started. */
Test(hb, unlocked_write_after_spawn_conflicts)
{
    struct ngr_tg *g = fx_new();
    uint32_t s0 = fx_at(g, "main", 30), sr = fx_at(g, "peek", 20), s = fx_at(g, "add", 16);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x10, s0);
    ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, L1, 0, 0);
    ngr_tg_access(g, 3, NGR_ACC_READ, X, 0, 0x30, sr);
    ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, L1, 0, 0);
    fx_rmw(g, 2, X, 0, 0x20, s, L1);
    fx_finish2(g);
    R = fx_analyse(g);
    cr_expect(R.nfindings >= 1, "nothing found for an unlocked write racing the update");
}

/* A threading.Lock used as a signal: main holds it and blocks on a second acquire; the worker
 * writes x and then releases the lock main holds.  Main's acquire returns only after that
 * release, so main's write of x comes after the worker's.  handoff=false is the control: the
 * worker releases a lock nobody holds, and the two writes (no common lock) are a race. */
static void signal_by_lock(bool handoff)
{
    struct ngr_tg *g = fx_new();
    uint32_t sw = fx_at(g, "work", 8), sm = fx_at(g, "main", 20);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, L1, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, X, 0, 0x20, sw);
    ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, handoff ? L1 : L2, 0, 0);
    if (!handoff) /* main gets the lock back some other way: it releases it itself first */
        ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, L1, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, L1, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x10, sm);
    ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, L1, 0, 0);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
}

Test(hb, lock_handed_off_orders)
{
    signal_by_lock(true);
    cr_expect_eq(R.nfindings, 0, "found %s", fx_list(&R));
}

Test(hb, lock_handed_off_control)
{
    signal_by_lock(false);
    const struct ngr_finding *f = fx_find(&R, NGR_FK_UNPROTECTED_WRITE, "app.x");
    cr_assert_not_null(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
}
