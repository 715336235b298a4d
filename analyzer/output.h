/* output.h — the reports: text for people, JSON (docs/json-schema.md) and SARIF 2.1.0
 * (docs/report-formats.md), all written from a finished struct ngr_report (findings.h).
 *
 * All are pure functions of the report and the options: findings come out in the report's
 * order (findings.h sorts them), so two runs that find the same races print the same document
 * apart from run facts (events, traces).  Any byte in a recorded name is escaped (json_writer.h
 * for JSON and SARIF, escape.h for text).
 * Suppressed findings are already gone from the report (suppress.h); only their number appears. */
#ifndef NGR_AN_OUTPUT_H
#define NGR_AN_OUTPUT_H

#include <stdio.h>

#include "findings.h"

/* Version of the JSON document's layout (docs/json-schema.md): bumped when fields are added;
 * fields are never renamed or removed. */
#define NGR_JSON_SCHEMA_VERSION 4 /* 2: traces[].untraced/stopped_early, summary's untraced, stopped_early,
                                     traces_without_header, traces_unreadable;
                                     3: a race is a group (issue #13): races[].id names the group,
                                     races[].pairs/objects/keys/key_examples, summary's site_pairs,
                                     suppressed_pairs;
                                     4: races[].tests/tests_more/runs/in_baseline, an access's test
                                     and phase, runs, baseline, summary's new and known (issue #15) */

struct ngr_output_opts {
    const char *tool_version;  /* "0.1.0"; NULL writes "unknown" */
    const char *base_dir;      /* SARIF: files under it get relative URIs with uriBaseId
                                  "SRCROOT"; NULL = the current directory */
};

/* The text report (docs/report-formats.md), every recorded name escaped (escape.h).  Returns 0,
 * or -1 on a write error. */
int ngr_output_text(FILE *f, const struct ngr_report *r);

/* One JSON document (indented, newline-terminated).  Returns 0, or -1 on a write error. */
int ngr_output_json(FILE *f, const struct ngr_report *r, const struct ngr_output_opts *o);

/* One SARIF 2.1.0 log with one run (indented, newline-terminated).  Returns 0, or -1 on a write
 * error. */
int ngr_output_sarif(FILE *f, const struct ngr_report *r, const struct ngr_output_opts *o);

/* The run's facts (python, gil_enabled, free_threaded, gil_enabled_by, processes, events) as
 * members of the object open in w: both documents carry them under the same names. */
struct ngr_jw;
void ngr_output_run_facts(struct ngr_jw *w, const struct ngr_report *r);

/* The SARIF rule of each finding kind: its index in tool.driver.rules[] (kind - 1), and the
 * texts the rule carries. */
struct ngr_rule_text {
    const char *name;          /* "LostUpdate" */
    const char *short_desc;    /* one sentence */
    const char *full_desc;     /* a paragraph */
    const char *help;          /* how to fix it (plain text) */
};
const struct ngr_rule_text *ngr_rule_text(enum ngr_finding_kind kind);

/* "error" / "warning" (JSON severity and SARIF level). */
const char *ngr_severity_name(enum ngr_severity s);

#endif
