/* groups.h — a finding is a group of site pairs (findings.h, issue #13): two groups with one id
 * merged into one (the traces of a report, and whoever merges reports), and the fields a group
 * derives from its pairs (its representative, count, observed) settled.  The analysis builds the
 * groups (emit.c); the outputs and suppressions read them through ngr_group_pair(). */
#ifndef NGR_AN_GROUPS_H
#define NGR_AN_GROUPS_H

#include <stddef.h>

#include "findings.h"

/* Frees one pair's strings and zeroes it (findings.c, beside ngr_finding_free). */
void ngr_site_pair_free(struct ngr_site_pair *p);

/* Frees an access's strings and arrays and zeroes it (findings.c). */
void ngr_access_info_free(struct ngr_access_info *x);

/* A deep copy of src into dst (whose old contents are not freed). */
void ngr_access_copy(struct ngr_access_info *dst, const struct ngr_access_info *src);

/* Merges f into g (the same id): their pairs united, a pair in both counted once with its counts
 * summed and the observed instance kept; objects and keys summed (each side counted its own
 * processes); key examples united up to NGR_MAX_KEY_EXAMPLES.  Takes everything of f, which is
 * left zeroed, then settles g.  A finding with npairs 0 counts as its own single pair. */
void ngr_group_absorb(struct ngr_finding *g, struct ngr_finding *f);

/* Orders g's pairs (observed first, then the most often seen, then by their innermost frames'
 * file, line and function, then by id) and makes pairs[0] the
 * representative: the finding's count becomes the sum of its pairs' counts, observed and severity
 * pairs[0]'s (so observed when any pair is), variable, key, access[] and message copies of
 * pairs[0]'s.  Nothing changes when npairs is 0. */
void ngr_group_settle(struct ngr_finding *g);

/* The number of pairs of f as the outputs show it: npairs, or 1 for a finding without pairs. */
static inline size_t ngr_group_npairs(const struct ngr_finding *f)
{
    return f->npairs ? f->npairs : 1;
}

/* Pair i (< ngr_group_npairs(f)) of f.  For a finding without pairs, its own fields, borrowed
 * into *tmp (nothing to free). */
const struct ngr_site_pair *ngr_group_pair(const struct ngr_finding *f, size_t i, struct ngr_site_pair *tmp);

#endif
