/* report_read.h — a JSON report (`report --format=json`, docs/json-schema.md, any version >= 1)
 * read back into a struct ngr_report, so that reports of many runs can be merged with each other
 * and with traces (runs.h), and a report can serve as a baseline (baseline.h).
 *
 * Everything a report of this version writes comes back: findings with their accesses, tests,
 * counts and runs (1 when a version 1 report has none), the run's facts, traces, warnings and
 * suppressed count.  Fields a reader does not know are ignored; a field it needs that is missing
 * or of the wrong type is an error naming the file, the byte offset and the field
 * ("races[2].accesses: expected an array of 2, found an object"). */
#ifndef NGR_AN_REPORT_READ_H
#define NGR_AN_REPORT_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

/* The largest report read (a report is a few KiB per finding). */
#define NGR_REPORT_MAX_BYTES (512u << 20)

/* True when the file at path looks like a JSON document (its first byte that is not white space
 * is '{'), false for anything else (a trace starts with "NGRTRACE"), or when it cannot be read. */
bool ngr_is_json_report(const char *path);

/* Reads the report at path into rep (zeroed by the caller).  0, or -1 with one line in err
 * ("FILE: byte N: what"), rep then freed and zeroed. */
int ngr_report_read_json(const char *path, struct ngr_report *rep, char *err, size_t errlen);
/* The same from a buffer; name is used in messages. */
int ngr_report_read_json_mem(const char *name, const char *buf, size_t len, struct ngr_report *rep, char *err,
                             size_t errlen);

#endif
