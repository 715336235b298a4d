/* spans.h — which test an access ran in (issue #15): the spans of NGR_OP_MARK records
 * (docs/trace-format.md), attributed to accesses and through them to findings.
 *
 * A thread's current span is the innermost one it began and has not ended, else the span it
 * inherited: the one active in its parent when the parent spawned it (pytest-run-parallel runs a
 * test's body in threads started inside the call phase), or, for a thread that marks nothing
 * itself, the sender's span at the last hand-off it received (a queue, event or future: a pool
 * worker runs the task of the test that submitted it).  Barriers are not hand-offs here: every
 * party sends and receives at once.
 *
 * How an access finds its span without growing the per-access records: a MARK moves its thread's
 * own clock component on (which orders nothing new: no other thread has seen the new value) and
 * the thread keeps a list of (clock, span) changes, so the access's (thread, clock) already says
 * which span it ran in.  Nothing is allocated or looked up for a trace without marks.
 *
 * Every instance of a candidate adds the spans of its two accesses to the candidate's set (at
 * most NGR_MAX_TESTS labels, the rest counted); a finding lists them as its tests. */
#ifndef NGR_AN_SPANS_H
#define NGR_AN_SPANS_H

#include "analysis_int.h"

/* A MARK record of thread ev->tix. */
void spans_on_mark(struct an *a, const struct ngr_event *ev);
/* A thread or sync event (after clocks.c has seen it): spawns pass the span on, hand-offs too. */
void spans_on_thread(struct an *a, const struct ngr_event *ev);
void spans_on_sync(struct an *a, const struct ngr_event *ev);
/* One instance of candidate c: the spans of its two accesses. */
void spans_note(struct an *a, const struct cand *c, const struct acc_full *x0, const struct acc_full *x1);
/* The test and phase of each access of candidate c's kept instance (acc: its pair's two). */
void spans_fill_accesses(struct an *a, const struct cand *c, struct ngr_access_info acc[2]);
/* The tests of all of candidate c's instances, added to the group f it belongs to. */
void spans_add_tests(struct an *a, const struct cand *c, struct ngr_finding *f);
void spans_free(struct an *a);

#endif
