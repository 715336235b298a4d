/* report.c — `nogilrace report`: options, the analysis of every trace, the output, and the
 * exit status (exit_status(): 66 or --exit-code=N races found, 67 a process ran untraced, 68 tracing
 * stopped early, 0; 2 usage errors or no readable input).
 * The three formats are written by output.h, suppressions read by suppress.h. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "baseline.h"
#include "escape.h"
#include "findings.h"
#include "inputs.h"
#include "output.h"
#include "runs.h"
#include "util.h"
#include "suppress.h"

#define NGR_VERSION_STR "0.1.0"
#define RACES_FOUND 66
#define PROCESS_UNTRACED 67   /* a Python process ran without its CPython hooks */
#define TRACING_STOPPED 68    /* tracing stopped early in a process: events are missing */

/* The exit status (README, docs/ci.md): races first (66, or --exit-code=N; N = 0 lets the next
 * checks speak; races known from the --baseline do not count), then a Python process that ran
 * untraced, then tracing that stopped early. */
static int exit_status(const struct ngr_report *r, int races_code)
{
    if (r->nfindings > r->known && races_code)
        return races_code;
    if (r->untraced)
        return PROCESS_UNTRACED;
    if (r->stopped_early)
        return TRACING_STOPPED;
    return 0;
}

void ngr_report_usage(FILE *f)
{
    fprintf(f, "usage: nogilrace report [--format=text|json|sarif] [--suppressions FILE] [--no-default-suppressions]\n"
               "                        [--exit-code=N] [--baseline FILE] [--write-baseline FILE] INPUT...\n"
               "  analyse the traces (files, or directories of *.ngrtrace) and print the races found.\n"
               "  INPUT: a trace, a directory of traces (one run), or a JSON report (its runs): the runs are\n"
               "  merged, and each finding says in how many of them it appeared.\n"
               "  --baseline FILE: a JSON report; races whose id is in it are known and do not fail the run\n"
               "  --write-baseline FILE: write the updated baseline (this report's races and the baseline's)\n"
               "  --no-default-suppressions: also report the races CPython tolerates by design in its own\n"
               "  modules (re's and encodings' caches; docs/suppressions.md)\n"
               "  exit status: 66 races found (or N with --exit-code=N), else 67 a Python process ran untraced\n"
               "  (its CPython hooks were missing or failed), else 68 tracing stopped early in a process\n"
               "  (events are missing), else 0; 2 usage errors or no readable trace\n");
}

/* ---- command ---------------------------------------------------------------------------------- */

enum format { FMT_TEXT, FMT_JSON, FMT_SARIF };

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("nogilrace: report: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see nogilrace report --help)\n", stderr);
    return 2;
}

int ngr_cmd_report(int argc, char **argv)
{
    enum format fmt = FMT_TEXT;
    const char *supp = NULL, *baseline = NULL, *write_baseline = NULL;
    int exit_code = RACES_FOUND;
    bool paths_only = false, defaults = true;
    struct ngr_inputs in = {0};
    char err[1024];
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (paths_only || a[0] != '-' || !a[1]) {
            if (ngr_inputs_add(&in, a, err, sizeof err) != 0) {
                ngr_text_line(stderr, "nogilrace: ", err);
                rc = 2;
            }
        } else if (!strcmp(a, "--")) {
            paths_only = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            ngr_report_usage(stdout);
            ngr_inputs_free(&in);
            return 0;
        } else if (!strncmp(a, "--format=", 9) || !strcmp(a, "--format")) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
            if (!strcmp(v, "text"))
                fmt = FMT_TEXT;
            else if (!strcmp(v, "json"))
                fmt = FMT_JSON;
            else if (!strcmp(v, "sarif"))
                fmt = FMT_SARIF;
            else
                rc = bad_usage("unknown format '%s' (text, json or sarif)", v);
        } else if (!strncmp(a, "--suppressions=", 15) || !strcmp(a, "--suppressions")) {
            supp = a[14] == '=' ? a + 15 : (i + 1 < argc ? argv[++i] : NULL);
            if (!supp || !supp[0])
                rc = bad_usage("%s needs a file", "--suppressions");
        } else if (!strncmp(a, "--baseline=", 11) || !strcmp(a, "--baseline")) {
            baseline = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : NULL);
            if (!baseline || !baseline[0])
                rc = bad_usage("%s needs a file", "--baseline");
        } else if (!strncmp(a, "--write-baseline=", 17) || !strcmp(a, "--write-baseline")) {
            write_baseline = a[16] == '=' ? a + 17 : (i + 1 < argc ? argv[++i] : NULL);
            if (!write_baseline || !write_baseline[0])
                rc = bad_usage("%s needs a file", "--write-baseline");
        } else if (!strcmp(a, "--no-default-suppressions")) {
            defaults = false;
        } else if (!strncmp(a, "--exit-code=", 12) || !strcmp(a, "--exit-code")) {
            const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (!v[0] || *end || errno || n < 0 || n > 255)
                rc = bad_usage("--exit-code needs a number from 0 to 255, not '%s'", v);
            else
                exit_code = (int)n;
        } else {
            rc = bad_usage("unknown option %s", a);
        }
    }
    if (rc == 0 && !in.n) {
        fprintf(stderr, "nogilrace: report: no trace files given (or the directories hold no *.ngrtrace)\n");
        rc = 2;
    }
    /* always a set: without a file it still honours `# nogilrace: ignore` comments */
    struct ngr_suppressions *sup = NULL;
    if (rc == 0) {
        sup = ngr_suppress_load(supp, err, sizeof err);
        if (!sup) {
            ngr_text_line(stderr, "nogilrace: ", err);
            rc = 2;
        }
    }
    struct ngr_baseline *base = NULL;
    if (rc == 0 && baseline && !(base = ngr_baseline_load(baseline, err, sizeof err))) {
        fprintf(stderr, "nogilrace: %s\n", err);
        rc = 2;
    }
    if (rc != 0) {
        ngr_suppress_free(sup);
        ngr_inputs_free(&in);
        return rc;
    }
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    struct ngr_analysis_opts ao = {.progress = true};
    if (ngr_analyze_inputs(in.paths, in.n, &rep, &ao, err, sizeof err) != 0) {
        ngr_text_line(stderr, "nogilrace: ", err);
        ngr_baseline_free(base);
        ngr_suppress_free(sup);
        ngr_report_free(&rep);
        ngr_inputs_free(&in);
        return 2;
    }
    ngr_suppress_apply(sup, &rep);
    ngr_suppress_free(sup);
    if (defaults) {
        struct ngr_suppressions *def = ngr_suppress_defaults();
        ngr_suppress_apply(def, &rep);
        ngr_suppress_free(def);
    }
    if (base)
        ngr_baseline_apply(base, &rep);
    struct ngr_output_opts oo = {.tool_version = NGR_VERSION_STR};
    int werr = 0;
    if (fmt == FMT_JSON)
        werr = ngr_output_json(stdout, &rep, &oo);
    else if (fmt == FMT_SARIF)
        werr = ngr_output_sarif(stdout, &rep, &oo);
    else
        werr = ngr_output_text(stdout, &rep);
    if (fflush(stdout) != 0 || werr != 0) {
        fprintf(stderr, "nogilrace: report: cannot write the report: %s\n", strerror(errno));
        rc = 2;
    } else {
        rc = exit_status(&rep, exit_code);
    }
    if (write_baseline && ngr_baseline_write(write_baseline, &rep, base, &oo, err, sizeof err) != 0) {
        fprintf(stderr, "nogilrace: %s\n", err);
        rc = 2;
    }
    ngr_baseline_free(base);
    ngr_report_free(&rep);
    ngr_inputs_free(&in);
    return rc;
}
