/* baseline.h — `report --baseline FILE` and `--write-baseline FILE`, for nightly jobs that must
 * fail on new races only.
 *
 * A baseline is an earlier JSON report (report_read.h), or one written by --write-baseline.  A
 * finding whose stable id is in it is known (in_baseline): still reported, marked, not counted for
 * the exit status.  The ids are looked up through the baseline report's uthash id table
 * (merge.h).  --write-baseline writes the updated baseline: this report's findings and the
 * baseline's that did not show up this time (races are intermittent: one that hid tonight stays
 * accepted until someone writes a baseline without it, docs/ci.md). */
#ifndef NGR_AN_BASELINE_H
#define NGR_AN_BASELINE_H

#include <stddef.h>

#include "findings.h"
#include "output.h"

struct ngr_baseline;

/* Reads the baseline report at path.  NULL with one line in err when it cannot be read. */
struct ngr_baseline *ngr_baseline_load(const char *path, char *err, size_t errlen);
/* Marks rep's findings that b knows (in_baseline), counts them in rep->known, and names b's file
 * in rep->baseline (valid while b lives). */
void ngr_baseline_apply(const struct ngr_baseline *b, struct ngr_report *rep);
/* Writes the updated baseline to path (replaced at once: a temporary file renamed over it): the
 * findings of rep and those of b (may be NULL) that rep does not have.  0, or -1 with err. */
int ngr_baseline_write(const char *path, const struct ngr_report *rep, const struct ngr_baseline *b,
                       const struct ngr_output_opts *oo, char *err, size_t errlen);
void ngr_baseline_free(struct ngr_baseline *b);

#endif
