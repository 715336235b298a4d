/* test_preload_lock_rounds.c — lock releases kept back and lock rounds elided (events.c): a lock
 * released and taken back by its holder with nothing recorded in between writes nothing then, the
 * next written record is preceded by the RELEASE/ACQUIRE pair that says the lock was dropped, the
 * thread's sync serial moves only for news, and releases that are hand-offs are written at once. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "preload_fixture.h"

#define L1 0x1110
#define L2 0x2220

/* The records of thread 1 as short strings: "A7" access of var 7 (touch), "+L" acquire, "-L" release,
 * "=L" release-all, "B"/"E" thread begin/end (L: 1 for L1, 2 for L2). */
struct seq {
    char s[64][8];
    unsigned n;
};

static void to_seq(const uint64_t *w, void *ctx)
{
    struct seq *q = ctx;
    char *out = q->s[q->n < 64 ? q->n : 63];
    unsigned op = ngr_w0_op(w[0]), kind = ngr_w0_flags(w[0]);
    if (op == NGR_OP_ACCESS)
        snprintf(out, 8, "A%u", ngr_w0_arg(w[0]));
    else if (op == NGR_OP_THREAD)
        snprintf(out, 8, "%s", kind == NGR_THR_BEGIN ? "B" : kind == NGR_THR_END ? "E" : "T");
    else if (op == NGR_OP_SYNC)
        snprintf(out, 8, "%c%d",
                 kind == NGR_SYNC_ACQUIRE ? '+' : kind == NGR_SYNC_RELEASE ? '-' :
                 kind == NGR_SYNC_RELEASE_ALL ? '=' : '?',
                 w[2] == L1 ? 1 : w[2] == L2 ? 2 : 0);
    else
        snprintf(out, 8, "?");
    q->n++;
}

static void expect(const char *const *want, unsigned n)
{
    ngr_trace_finish(0);
    struct file f = slurp(ngr_g.path);
    struct seq q = {0};
    walk_stream(&f, 1, to_seq, &q, NULL);
    char got[512] = "", exp[512] = "";
    for (unsigned i = 0; i < q.n && i < 64; i++)
        strcat(strcat(got, q.s[i]), " ");
    for (unsigned i = 0; i < n; i++)
        strcat(strcat(exp, want[i]), " ");
    cr_assert_str_eq(got, exp, "thread 1 wrote\n  %s\nwant\n  %s", got, exp);
    free(f.data);
}
#define EXPECT(...)                                                                                \
    do {                                                                                           \
        const char *const w_[] = {__VA_ARGS__};                                                    \
        expect(w_, sizeof w_ / sizeof *w_);                                                        \
    } while (0)

static void touch(uint32_t var)
{
    ngr_emit_access(NGR_ACC_WRITE, var, 0, 1, 0);
}
static void acq(uint64_t l) { ngr_emit_sync(NGR_SYNC_ACQUIRE, l, 0, 0); }
static void rel(uint64_t l) { ngr_emit_sync(NGR_SYNC_RELEASE, l, 0, 0); }

Test(lock_rounds, rounds_with_nothing_recorded_write_nothing_then_one_pair, .init = start, .fini = stop)
{
    acq(L1);
    touch(7);
    for (int i = 0; i < 1000; i++) { /* `with lock:` around accesses the hooks dropped */
        rel(L1);
        acq(L1);
    }
    touch(8); /* written: the lock was dropped since access 7, and the trace says so */
    rel(L1);
    EXPECT("B", "+1", "A7", "-1", "+1", "A8", "-1", "E");
}

Test(lock_rounds, sync_serial_moves_for_news_only, .init = start, .fini = stop)
{
    uint32_t s0 = ngr_thread_sync_serial();
    acq(L1);
    uint32_t s1 = ngr_thread_sync_serial();
    cr_assert_neq(s1, s0, "an acquire written is news");
    touch(7);
    rel(L1);
    acq(L1);
    cr_assert_eq(ngr_thread_sync_serial(), s1, "a lock taken back is no news");
    touch(8);
    cr_assert_eq(ngr_thread_sync_serial(), s1, "nor is the pair written before the next record");
    rel(L1);
    acq(L2); /* the kept-back release of L1 is written first: news */
    cr_assert_geq(ngr_thread_sync_serial(), s1 + 2);
    rel(L2);
    EXPECT("B", "+1", "A7", "-1", "+1", "A8", "-1", "+2", "-2", "E"); /* L2's before the END */
}

Test(lock_rounds, releases_kept_back_are_written_before_the_end, .init = start, .fini = stop)
{
    acq(L1);
    touch(7);
    rel(L1);
    EXPECT("B", "+1", "A7", "-1", "E");
}

Test(lock_rounds, a_release_by_a_thread_not_holding_the_lock_is_written_at_once, .init = start,
     .fini = stop)
{
    rel(L1); /* a threading.Lock used as a signal: the hand-off the analyzer turns into an edge */
    acq(L1);
    touch(7);
    EXPECT("B", "-1", "+1", "A7", "E");
}

Test(lock_rounds, nested_holds_release_at_once_and_only_the_last_level_waits, .init = start,
     .fini = stop)
{
    acq(L1);
    acq(L1); /* an RLock taken twice */
    rel(L1); /* still held: written at once */
    touch(7);
    rel(L1); /* now free: kept back */
    acq(L1);
    touch(8);
    EXPECT("B", "+1", "+1", "-1", "A7", "-1", "+1", "A8", "E");
}

Test(lock_rounds, two_locks_retaken_both_show_before_the_next_record, .init = start, .fini = stop)
{
    acq(L1);
    acq(L2);
    touch(7);
    rel(L2);
    acq(L2); /* L2 re-taken */
    rel(L2); /* kept back; L2 stays marked re-taken */
    rel(L1); /* L2's release kept back is written here, L1's kept back */
    acq(L1); /* L1 re-taken: L2's pair is written first (one re-take is remembered) */
    acq(L2); /* news: L1's pair first */
    touch(8);
    EXPECT("B", "+1", "+2", "A7", "-2", "-2", "+2", "-1", "+1", "+2", "A8", "E");
}

Test(lock_rounds, a_wait_on_a_condition_ends_what_is_held, .init = start, .fini = stop)
{
    acq(L1);
    ngr_emit_sync(NGR_SYNC_RELEASE_ALL, L1, 1, 0); /* Condition.wait gives the lock up wholly */
    rel(L1); /* no longer held as far as the thread knows: written at once */
    touch(7);
    EXPECT("B", "+1", "=1", "-1", "A7", "E");
}

Test(lock_rounds, every_event_writes_every_release_and_acquire, .init = start, .fini = stop)
{
    setenv("NOGILRACE_EVERY_EVENT", "1", 1);
    ngr_options_load();
    acq(L1);
    touch(7);
    rel(L1);
    acq(L1);
    rel(L1);
    acq(L1);
    touch(8);
    unsetenv("NOGILRACE_EVERY_EVENT");
    ngr_options_load();
    EXPECT("B", "+1", "A7", "-1", "+1", "-1", "+1", "A8", "E");
}
