/* merge.h — findings with the same id become one: within a report (the traces of one run, each
 * analysed on its own) and across runs (reports of many runs and machines: a CI matrix's shards,
 * nightly runs).  A merged finding sums its counts, keeps the instance seen unordered (observed)
 * when there is one, unites the tests its accesses ran in, and counts the runs it appeared in.
 *
 * Findings are found by id through a uthash table (uthash_ngr.h) kept in report->by_id: built on
 * the first lookup, extended as findings are added, dropped when the findings move
 * (ngr_report_sort) and built again on the next lookup. */
#ifndef NGR_AN_MERGE_H
#define NGR_AN_MERGE_H

#include "findings.h"

/* The finding with this id, or NULL. */
struct ngr_finding *ngr_report_find_maybe(struct ngr_report *rep, const char *id);

/* Adds f to rep, taking its strings (f is left zeroed): merged into the finding with its id
 * (ngr_finding_absorb; add_runs as there), else appended. */
void ngr_report_add(struct ngr_report *rep, struct ngr_finding *f, bool add_runs);

/* Merges f into g (same id), taking f's strings (f is left zeroed): the groups merged as
 * ngr_group_absorb does (pairs united, counts summed, the observed instance kept), tests
 * united, known when either is; with add_runs, runs summed too (f comes from another run). */
void ngr_finding_absorb(struct ngr_finding *g, struct ngr_finding *f, bool add_runs);

/* Adds n test ids (fresh strings, any order, repeats allowed; all consumed, and the array) and
 * more uncounted ones to g's sorted, capped list. */
void ngr_finding_add_tests(struct ngr_finding *g, char **tests, size_t n, uint64_t more);

/* Moves everything of run (one run's report, or a report of several) into total: findings merged
 * by id with their runs added, processes, warnings and notes appended, counts summed, the first
 * known Python kept.  run is left empty (ngr_report_free still safe). */
void ngr_report_absorb(struct ngr_report *total, struct ngr_report *run);

/* Frees the id table (ngr_report_free and ngr_report_sort do). */
void ngr_report_index_free(struct ngr_report *rep);

#endif
