/* report.c — `nogilrace report`: options, the analysis of every trace, the text output, and the
 * exit status (0 nothing found, 66 or --exit-code=N races found, 2 usage errors or bad input).
 * JSON and SARIF are written by output.h (analyzer-out), suppressions read by suppress.h. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "baseline.h"
#include "findings.h"
#include "inputs.h"
#include "output.h"
#include "runs.h"
#include "util.h"
#include "suppress.h"

#define NGR_VERSION_STR "0.1.0"
#define RACES_FOUND 66

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
               "  exit status: 0 nothing found, 66 races found (or N with --exit-code=N), 2 usage or input errors\n");
}

/* ---- text output ------------------------------------------------------------------------------ */

static const char *op_text(const char *op)
{
    if (!strcmp(op, "iter_begin"))
        return "Iteration";
    if (!strcmp(op, "contains"))
        return "Membership test";
    if (!strcmp(op, "read"))
        return "Read";
    if (!strcmp(op, "write"))
        return "Write";
    if (!strcmp(op, "delete"))
        return "Delete";
    if (!strcmp(op, "clear"))
        return "Clear";
    return op;
}

static void text_access(FILE *f, const struct ngr_access_info *x, const char *role)
{
    fprintf(f, "  %s%s%s by thread %u \"%s\"", op_text(x->op), x->atomic ? " (atomic)" : "", role, x->thread,
            x->thread_name);
    if (x->pid)
        fprintf(f, " (pid %u)", x->pid);
    if (x->test)
        fprintf(f, " in %s%s%s%s", x->test, x->phase ? " (" : "", x->phase ? x->phase : "", x->phase ? ")" : "");
    if (x->nlocks) {
        fputs(", holding ", f);
        for (size_t i = 0; i < x->nlocks; i++)
            fprintf(f, "%s%s", i ? ", " : "", x->locks[i]);
    } else {
        fputs(", holding no lock", f);
    }
    fputs(":\n", f);
    if (!x->depth)
        fputs("      (no Python stack recorded)\n", f);
    for (size_t i = 0; i < x->depth; i++)
        fprintf(f, "    #%zu %s %s:%u\n", i, x->stack[i].function, x->stack[i].file, x->stack[i].line);
    for (size_t i = 0; i < x->nnative; i++)
        fprintf(f, "    native #%zu %s\n", i, x->native_stack[i]);
}

static void output_text(FILE *f, const struct ngr_report *r)
{
    static const char rule[] = "==================";
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct ngr_finding *x = &r->findings[i];
        fprintf(f, "%s\nWARNING: nogilrace: %s on %s (%s, %s, seen %" PRIu64 " time%s)  [%s]\n", rule,
                ngr_finding_kind_name(x->kind), x->variable, x->var_kind,
                x->observed ? "observed: the accesses were unordered in this run"
                            : "potential: ordered in this run, but by no common lock",
                x->count, x->count == 1 ? "" : "s", x->id);
        fprintf(f, "  %s\n", x->message);
        if (x->in_baseline)
            fprintf(f, "  Known: in the baseline %s\n", r->baseline ? r->baseline : "");
        if (r->runs > 1)
            fprintf(f, "  Seen in %u of %u runs\n", x->runs, r->runs);
        for (size_t t = 0; t < x->ntests; t++)
            fprintf(f, "%s%s", t ? ", " : x->ntests + x->tests_more > 1 ? "  In tests: " : "  In test: ", x->tests[t]);
        if (x->tests_more)
            fprintf(f, ", and %" PRIu64 " more", x->tests_more);
        if (x->ntests)
            fputc('\n', f);
        const char *role0 = x->kind == NGR_FK_UNPROTECTED_WRITE ? "" : " (start of the unprotected sequence)";
        text_access(f, &x->access[0], role0);
        text_access(f, &x->access[1], " (conflicting)");
        fprintf(f, "  Fix: %s\n", x->hint);
    }
    if (r->nfindings)
        fprintf(f, "%s\n", rule);
    for (size_t i = 0; i < r->ngil_notes; i++)
        if (r->gil_notes[i].enabled)
            fprintf(f, "note: the GIL was enabled by importing %s (pid %u): races may hide while it is on\n",
                    r->gil_notes[i].module, r->gil_notes[i].pid);
    size_t observed = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        observed += r->findings[i].observed;
    fprintf(f, "nogilrace: %zu race%s found (%zu observed, %zu potential)", r->nfindings, r->nfindings == 1 ? "" : "s",
            observed, r->nfindings - observed);
    if (r->suppressed)
        fprintf(f, ", %zu suppressed", r->suppressed);
    if (r->baseline)
        fprintf(f, ", %zu new, %zu in the baseline", r->nfindings - r->known, r->known);
    if (r->runs > 1)
        fprintf(f, "; %u runs", r->runs);
    fprintf(f, "; %zu process%s, %" PRIu64 " events", r->processes, r->processes == 1 ? "" : "es", r->events);
    if (r->python_version)
        fprintf(f, "; Python %.*s", (int)strcspn(r->python_version, " "), r->python_version);
    if (r->free_threaded)
        fprintf(f, " free-threaded, GIL %s", r->gil_enabled ? "enabled" : "disabled");
    fputc('\n', f);
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
                fprintf(stderr, "nogilrace: %s\n", err);
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
            fprintf(stderr, "nogilrace: %s\n", err);
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
        fprintf(stderr, "nogilrace: %s\n", err);
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
        output_text(stdout, &rep);
    if (fflush(stdout) != 0 || werr != 0) {
        fprintf(stderr, "nogilrace: report: cannot write the report: %s\n", strerror(errno));
        rc = 2;
    } else {
        rc = rep.nfindings > rep.known ? exit_code : 0; /* known races (--baseline) fail nothing */
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
