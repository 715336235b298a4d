/* analysis.h — the race analysis (issue #5): a hybrid of Eraser locksets and happens-before, with
 * an atomicity layer on top, run over one trace at a time; findings merged into a ngr_report
 * (findings.h).
 *
 * Per variable identity (var_id, key_id):
 *   - happens-before from vector clocks per thread: SPAWN/BEGIN (the child starts with its
 *     parent's clock), END/JOIN (the joiner takes the child's final clock), SEND/RECV on queues,
 *     events, futures, barriers, condition waiters.  Lock acquire/release are NOT edges: locks are
 *     what the lockset half checks, and ordering by a lock that happened to be taken in one order
 *     would hide a race that the next run exposes.
 *   - ownership (Eraser's Exclusive state, made hybrid): an access that every recorded earlier
 *     access of the variable happens-before keeps or takes the variable exclusively — so
 *     initialisation before threads start, fork/join phases and hand-off through a queue are
 *     quiet.  Otherwise the variable is shared, and conflicting writes are checked by locksets.
 *   - atomicity: a write preceded, in the same function activation (frame_id) of the same
 *     thread, by a read of the variable opens a read-modify-write "window"; the locks held
 *     across the whole window protect it.  A write by another thread holding none of those locks
 *     conflicts: lost-update (same source line, or the lock was dropped and re-taken in between),
 *     check-then-act (a membership test, or a read on another line), iteration-during-mutation
 *     (an ITER_BEGIN..ITER_END window of the whole container against writes to any of its keys).
 *     Two plain non-atomic writes from different threads with no common lock: unprotected-write.
 *     A lone atomic container operation (NGR_ACC_FLAG_ATOMIC) is never a finding by itself.
 * A finding is `observed` when the two accesses were unordered by happens-before in this run,
 * else `potential`.
 *
 * Memory: per variable identity a 128-byte record; per thread a sparse vector clock (runs of
 * columns; the threads it has wholly seen end collapse into one run) and, while it runs, its open
 * reads; per live sync object with SEND/RECV a sparse clock; nothing per event.
 */
#ifndef NGR_AN_ANALYSIS_H
#define NGR_AN_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"
#include "trace.h"

struct ngr_analysis_opts {
    bool progress;       /* progress line on stderr (a terminal) */
};

/* Analyses one opened trace and merges its findings and facts into rep.  0, or -1 with one line
 * in err when a chunk fails the checks its opening deferred (NGR_TRACE_DEFER_CHECKS): then rep
 * has nothing of this trace. */
int ngr_analyze_trace(const struct ngr_trace *t, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                      char *err, size_t errlen);

/* Opens each path (files only; expand directories first), analyses it, merges everything into
 * rep (zeroed by the caller).  Warnings go to stderr as `nogilrace: warning: ...` and into
 * rep->warnings.  One unreadable trace never hides the others: among several paths, a trace that
 * cannot be read (corrupt, not a regular file, truncated under the reader) is a warning naming it
 * (counted in rep->traces_unreadable), and a file without a header, left by a process that died
 * at start, a warning counted in rep->traces_no_header (only the first few of those are printed).
 * Returns 0, or -1 with one line in err when nothing could be read: the problem of the one path
 * given, or a line saying that none of several could be read. */
int ngr_analyze_files(char *const *paths, size_t n, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                      char *err, size_t errlen);

/* Adds f (a group of site pairs, findings.h) to rep, taking ownership of its strings; a finding
 * with the same id already there absorbs it (groups.h: pairs united, counts summed, observed
 * when any pair is). */
void ngr_report_merge_finding(struct ngr_report *rep, struct ngr_finding *f);
void ngr_finding_free(struct ngr_finding *f);

/* Puts n findings in the order findings.h promises, and nothing else (ngr_report_sort also
 * settles each group). */
void ngr_findings_order(struct ngr_finding *f, size_t n);

/* Settles every group (groups.h: its representative pair first) and sorts the findings as
 * findings.h promises (call once, after the last trace). */
void ngr_report_sort(struct ngr_report *rep);

#endif
