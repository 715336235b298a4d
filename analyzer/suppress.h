/* suppress.h — which findings the user does not want to see (docs/suppressions.md).
 *
 * Two sources:
 *   - a suppressions file (`report --suppressions FILE`): one rule per line, TYPE:GLOB with TYPE
 *     race (finding id or kind), variable (with or without its key), file or function (any frame
 *     of either access's Python stack); `#` comments and blank lines; globs are fnmatch(3)
 *     patterns without flags ('*' also matches '/');
 *   - `# nogilrace: ignore` (optionally `# nogilrace: ignore[kind,...]`) on the source line of
 *     either access, read from the source file at report time (each file read once and cached;
 *     a file that cannot be read suppresses nothing and is not an error).
 *
 * Suppression is decided per site pair (a finding is a group of them, findings.h): a rule on what
 * the group shares (race: its id or kind, variable: its name without the key) covers every pair;
 * a rule on what a pair has (race: the pair's own id, variable: the name with the key it was seen
 * on, file:/function: a frame of its two stacks, the comment on one of its two lines) covers that
 * pair.  A finding whose pairs are all suppressed is dropped from every output and counted in
 * report->suppressed; one that keeps some pairs stays, settled on what is left (groups.h), the
 * pairs gone counted in report->suppressed_pairs. */
#ifndef NGR_AN_SUPPRESS_H
#define NGR_AN_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

struct ngr_suppressions;

/* Reads the rules in path.  path NULL gives a set with no rules that still honours the
 * `# nogilrace: ignore` comments, so the report command should always make one.  On a bad line
 * or an unreadable file: NULL, and one line "FILE:LINE: what" (or "FILE: what") in err. */
struct ngr_suppressions *ngr_suppress_load(const char *path, char *err, size_t errlen);

/* Same from text in memory; name is used in error messages ("FILE:LINE: ..."). */
struct ngr_suppressions *ngr_suppress_parse(const char *name, const char *text, size_t len, char *err,
                                            size_t errlen);

/* The built-in rules: races inside CPython's own modules that CPython tolerates by design
 * (docs/suppressions.md, "Defaults", says which and why).  No source comments. */
struct ngr_suppressions *ngr_suppress_defaults(void);

/* Turns the `# nogilrace: ignore` source comments off (on by default). */
void ngr_suppress_set_inline(struct ngr_suppressions *s, bool on);

/* True when every site pair of f is suppressed by a rule or a source comment.  Caches source files
 * in s. */
bool ngr_suppress_match(struct ngr_suppressions *s, const struct ngr_finding *f);

/* Removes the suppressed site pairs from r's findings, and the findings left without any (freed
 * with ngr_finding_free); adds their number to r->suppressed and returns it, and the number of
 * pairs removed from findings that stay to r->suppressed_pairs.  The rest stay in findings.h's
 * order (sorted again when a finding lost pairs). */
size_t ngr_suppress_apply(struct ngr_suppressions *s, struct ngr_report *r);

void ngr_suppress_free(struct ngr_suppressions *s);

#endif
