/* test_clocks.c — happens-before at scale: fork/join in many batches of short threads (the
 * `pytest --parallel-threads=16` shape), a daemon that never synchronises, a thread with no known
 * parent, sync objects freed and their ids reused, and 50k threads analysed in bounded memory.
 * Every quiet expectation sits next to a finding that must still be reported. */
#include <sys/resource.h>

#include "analysis_fixture.h"

enum { Z = 4 };

static struct ngr_report R;
static void fini(void) { ngr_report_free(&R); }
TestSuite(clocks, .fini = fini);

struct sites {
    uint32_t init, rmw, z, y_last0, y_last1, y_first, d_early, d_late, stranger;
};

static struct ngr_tg *new_gen(struct sites *s)
{
    struct ngr_tg *g = fx_new();
    ngr_tg_var(g, Z, NGR_VAR_GLOBAL, "app.z");
    s->init = fx_at(g, "<module>", 3);
    s->rmw = fx_at(g, "work", 10);
    s->z = fx_at(g, "work", 12);
    s->y_last0 = fx_at(g, "work", 20);
    s->y_last1 = fx_at(g, "work", 21);
    s->y_first = fx_at(g, "work", 22);
    s->d_early = fx_at(g, "daemon", 40);
    s->d_late = fx_at(g, "daemon", 41);
    s->stranger = fx_at(g, "stranger", 50);
    return g;
}

/* Main (thread 1) runs nbatch batches of `per` workers: spawns them all, each updates x under
 * app.lock, the first writes z without a lock (batch after batch, ordered by join and spawn); in
 * the last batch workers 0 and 1 write y without a lock (a race inside the batch) unless
 * `daemon`: then a daemon thread started first writes y under its own lock at the start and
 * after the last batch, and batch 0's first worker writes y without one.  Main joins each batch
 * before the next.  Returns the next free thread number. */
static uint32_t gen_batches(struct ngr_tg *g, const struct sites *s, unsigned nbatch, unsigned per, bool daemon)
{
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x1, s->init);
    uint32_t next = 2, d = 0;
    if (daemon) {
        d = next++;
        ngr_tg_thread(g, 1, NGR_THR_SPAWN, d, 0);
        ngr_tg_thread(g, d, NGR_THR_BEGIN, 1, 0);
        ngr_tg_sync(g, d, NGR_SYNC_ACQUIRE, L2, 0, 0);
        ngr_tg_access(g, d, NGR_ACC_WRITE, Y, 0, 0x2, s->d_early);
        ngr_tg_sync(g, d, NGR_SYNC_RELEASE, L2, 0, 0);
    }
    for (unsigned b = 0; b < nbatch; b++) {
        uint32_t first = next;
        for (unsigned i = 0; i < per; i++) {
            ngr_tg_thread(g, 1, NGR_THR_SPAWN, next, 0);
            ngr_tg_thread(g, next, NGR_THR_BEGIN, 1, 0);
            next++;
        }
        for (unsigned i = 0; i < per; i++) {
            uint32_t w = first + i;
            uint64_t frame = 0x1000 + w;
            fx_rmw(g, w, X, 0, frame, s->rmw, L1);
            if (i == 0)
                ngr_tg_access(g, w, NGR_ACC_WRITE, Z, 0, frame, s->z);
            if (!daemon && b == nbatch - 1 && i < 2)
                ngr_tg_access(g, w, NGR_ACC_WRITE, Y, 0, frame, i ? s->y_last1 : s->y_last0);
            if (daemon && b == 0 && i == 0)
                ngr_tg_access(g, w, NGR_ACC_WRITE, Y, 0, frame, s->y_first);
        }
        for (unsigned i = 0; i < per; i++)
            ngr_tg_thread(g, first + i, NGR_THR_END, 0, 0);
        for (unsigned i = 0; i < per; i++)
            ngr_tg_thread(g, 1, NGR_THR_JOIN, first + i, 0);
    }
    if (daemon) {
        ngr_tg_sync(g, d, NGR_SYNC_ACQUIRE, L2, 0, 0);
        ngr_tg_access(g, d, NGR_ACC_WRITE, Y, 0, 0x2, s->d_late);
        ngr_tg_sync(g, d, NGR_SYNC_RELEASE, L2, 0, 0);
        ngr_tg_thread(g, d, NGR_THR_END, 0, 0);
        ngr_tg_thread(g, 1, NGR_THR_JOIN, d, 0);
    }
    return next;
}

static void finish(struct ngr_tg *g, const struct sites *s)
{
    ngr_tg_access(g, 1, NGR_ACC_WRITE, X, 0, 0x1, s->init); /* after every join: ordered */
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
}

/* The finding of kind on var between lines l0 and l1 (either way round), or NULL. */
/* The site pair at lines l0 and l1 (either order) of the finding of kind on var. */
static const struct ngr_site_pair *find_pair(const struct ngr_report *r, enum ngr_finding_kind kind, const char *var,
                                             unsigned l0, unsigned l1)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct ngr_finding *f = &r->findings[i];
        if (f->kind != kind || strcmp(f->variable, var))
            continue;
        for (size_t j = 0; j < f->npairs; j++) {
            const struct ngr_site_pair *p = &f->pairs[j];
            if (!p->access[0].depth || !p->access[1].depth)
                continue;
            unsigned a = p->access[0].stack[0].line, b = p->access[1].stack[0].line;
            if ((a == l0 && b == l1) || (a == l1 && b == l0))
                return p;
        }
    }
    return NULL;
}

/* 200 batches of 16 (3200 threads): the only finding is the unlocked pair inside the last batch,
 * observed; z, written once per batch without a lock, is ordered batch to batch by join/spawn. */
Test(clocks, batches_of_16_only_the_race_inside_a_batch)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    gen_batches(g, &s, 200, 16, false);
    finish(g, &s);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_site_pair *f = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.y", 20, 21);
    cr_assert(f, "no unprotected-write app.y 20/21: %s", fx_list(&R));
    cr_expect(f->observed);
    cr_expect_eq(f->access[0].thread + f->access[1].thread, 2 * (2 + 199 * 16) + 1);
}

/* A daemon that never synchronises lives through all batches: its writes of y race with batch 0's
 * (long ended and joined) write both ways, observed; the batches' ordering of z still holds. */
Test(clocks, daemon_that_never_synchronises_still_races)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    gen_batches(g, &s, 200, 16, true);
    finish(g, &s);
    R = fx_analyse(g);
    /* one bug, at two site pairs (issue #13: one finding per bug) */
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    cr_expect_eq(R.nfindings ? R.findings[0].npairs : 0, 2);
    const struct ngr_site_pair *early = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.y", 40, 22);
    const struct ngr_site_pair *late = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.y", 22, 41);
    cr_assert(early && late, "found %s", fx_list(&R));
    cr_expect(early->observed);
    cr_expect(late->observed, "the daemon's late write looks ordered after batch 0's write");
}

/* A thread with no known parent (BEGIN without one) starting after all batches writes z: it is
 * unordered with the last batch's write, observed, although every batch thread has ended. */
Test(clocks, thread_without_parent_after_batches_is_unordered)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    uint32_t t = gen_batches(g, &s, 50, 16, false);
    ngr_tg_thread(g, t, NGR_THR_BEGIN, 0, 0);
    ngr_tg_access(g, t, NGR_ACC_WRITE, Z, 0, 0x3, s.stranger);
    ngr_tg_thread(g, t, NGR_THR_END, 0, 0);
    finish(g, &s);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 2, "found %s", fx_list(&R));
    const struct ngr_site_pair *f = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.z", 12, 50);
    cr_assert(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
}

/* Futures: each task's worker writes z and sets a future (SEND) that main waits on (RECV) before
 * it frees the future and starts the next task, whose future gets the same id: every write of z
 * is ordered.  Then the last worker sets its future and frees it; a new object gets the id, main
 * waits on it (nobody sent to it) and writes z: the freed future's clock must not order that. */
Test(clocks, freed_future_ids_reused)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    enum { FUT = 0x500, TASKS = 100 };
    ngr_tg_sobj(g, FUT, NGR_SOBJ_FUTURE, "<Future created at app.py:9>");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    uint32_t w = 2;
    for (unsigned k = 0; k < TASKS; k++, w++) {
        ngr_tg_thread(g, 1, NGR_THR_SPAWN, w, 0);
        ngr_tg_thread(g, w, NGR_THR_BEGIN, 1, 0);
        ngr_tg_access(g, w, NGR_ACC_WRITE, Z, 0, 0x10 + w, s.z);
        ngr_tg_sync(g, w, NGR_SYNC_SEND, FUT, 0, 0);
        if (k < TASKS - 1) {
            ngr_tg_sync(g, 1, NGR_SYNC_RECV, FUT, 0, 0);
            ngr_tg_sync(g, 1, NGR_SYNC_FREE, FUT, 0, 0);
        } else {
            ngr_tg_sync(g, w, NGR_SYNC_FREE, FUT, 0, 0);
            ngr_tg_sync(g, 1, NGR_SYNC_RECV, FUT, 0, 0);
            ngr_tg_access(g, 1, NGR_ACC_WRITE, Z, 0, 0x1, s.y_last0);
        }
        ngr_tg_thread(g, w, NGR_THR_END, 0, 0);
    }
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_site_pair *f = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.z", 12, 20);
    cr_assert(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
}

/* Two workers, never joined, each write z and set an event that main waits on.  The first then
 * writes z again: main's wait orders only what came before the set, so main's write races with
 * that second write (observed).  The second worker writes nothing after the set: main's write
 * is ordered after all of it (and after the first worker's first write). */
Test(clocks, received_clock_orders_only_accesses_before_the_send)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    enum { EV2 = 0x600 };
    ngr_tg_sobj(g, EV2, NGR_SOBJ_EVENT, "app.done2");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, Z, 0, 0x20, s.z);
    ngr_tg_sync(g, 2, NGR_SYNC_SEND, EV, 0, 0);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, Y, 0, 0x20, s.y_last1);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_RECV, EV, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 0);
    ngr_tg_access(g, 3, NGR_ACC_WRITE, Z, 0, 0x30, s.z);
    ngr_tg_sync(g, 3, NGR_SYNC_SEND, EV2, 0, 0);
    ngr_tg_thread(g, 3, NGR_THR_END, 0, 0);
    ngr_tg_sync(g, 1, NGR_SYNC_RECV, EV2, 0, 0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, Z, 0, 0x1, s.y_last0);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, Y, 0, 0x1, s.y_last0);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    R = fx_analyse(g);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_site_pair *f = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.y", 21, 20);
    cr_assert(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
}

/* 50,000 threads in batches of 16 analysed in bounded memory (dense clocks took n^2: ~10 GB,
 * and minutes).  The trace itself (one 4 KiB chunk per thread, ~200 MB) is built first; the
 * analysis may add at most 200 MB of peak resident memory, and must find exactly the race. */
Test(clocks, fifty_thousand_threads_in_bounded_memory, .timeout = 300)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    gen_batches(g, &s, 3125, 16, false);
    finish(g, &s);
    long grew_kb;
    R = fx_analyse_measured(g, &grew_kb);
    cr_log_info("50k threads: analysis peak RSS grew by %ld KiB", grew_kb);
    cr_expect_lt(grew_kb, 200 * 1024, "analysis peak RSS grew by %ld KiB", grew_kb);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_site_pair *f = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.y", 20, 21);
    cr_assert(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
}

/* 50,000 threads never joined: each writes z, sets its future (one id, freed and reused) and
 * ends; main waits on each future before starting the next task.  Bounded memory again, and
 * only the planted race: the last task writes y after setting its future, main writes y. */
Test(clocks, fifty_thousand_futures_without_join_in_bounded_memory, .timeout = 300)
{
    struct sites s;
    struct ngr_tg *g = new_gen(&s);
    enum { FUT = 0x500, TASKS = 50000 };
    ngr_tg_sobj(g, FUT, NGR_SOBJ_FUTURE, "<Future created at app.py:9>");
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    for (uint32_t k = 0, w = 2; k < TASKS; k++, w++) {
        ngr_tg_thread(g, 1, NGR_THR_SPAWN, w, 0);
        ngr_tg_thread(g, w, NGR_THR_BEGIN, 1, 0);
        ngr_tg_access(g, w, NGR_ACC_WRITE, Z, 0, 0x10 + w, s.z);
        ngr_tg_sync(g, w, NGR_SYNC_SEND, FUT, 0, 0);
        if (k == TASKS - 1)
            ngr_tg_access(g, w, NGR_ACC_WRITE, Y, 0, 0x10 + w, s.y_last1);
        ngr_tg_thread(g, w, NGR_THR_END, 0, 0);
        ngr_tg_sync(g, 1, NGR_SYNC_RECV, FUT, 0, 0);
        ngr_tg_sync(g, 1, NGR_SYNC_FREE, FUT, 0, 0);
    }
    ngr_tg_access(g, 1, NGR_ACC_WRITE, Y, 0, 0x1, s.y_last0);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    long grew_kb;
    R = fx_analyse_measured(g, &grew_kb);
    cr_log_info("50k futures: analysis peak RSS grew by %ld KiB", grew_kb);
    cr_expect_lt(grew_kb, 200 * 1024, "analysis peak RSS grew by %ld KiB", grew_kb);
    cr_expect_eq(R.nfindings, 1, "found %s", fx_list(&R));
    const struct ngr_site_pair *f = find_pair(&R, NGR_FK_UNPROTECTED_WRITE, "app.y", 21, 20);
    cr_assert(f, "found %s", fx_list(&R));
    cr_expect(f->observed);
}
