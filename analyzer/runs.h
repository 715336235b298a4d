/* runs.h — the inputs of `nogilrace report` as runs: what a CI matrix's shards or a series of
 * nightly runs leave behind, merged into one report that counts in how many runs each finding
 * appeared.
 *
 * A run is a directory of traces (the traces named on the command line are grouped by the
 * directory they are in: `report shard1/ shard2/` is two runs, `report traces/T1 traces/T2` one), or
 * a JSON report, which brings its own runs (a merged report keeps counting).  Each run of traces
 * is analysed on its own (analysis.h), then the runs are merged (merge.h).  One run of traces and
 * nothing else is exactly what `report` always did. */
#ifndef NGR_AN_RUNS_H
#define NGR_AN_RUNS_H

#include <stddef.h>

#include "analysis.h"

/* Analyses paths (files: traces or JSON reports; directories already expanded to their traces)
 * into rep (zeroed by the caller), sorted.  A run of traces that cannot be analysed among other
 * runs is a warning; alone, or an unreadable JSON report, it is the error: -1 with one line in
 * err. */
int ngr_analyze_inputs(char *const *paths, size_t n, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                       char *err, size_t errlen);

#endif
