/* runs.c — see runs.h. */
#include "runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "report_read.h"
#include "util.h"

struct group {
    char *dir;        /* the directory part of its traces' paths ("." for a bare name) */
    char **paths;
    size_t n, cap;
};

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ngr_xstrdup(".");
    return ngr_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static void warn(struct ngr_report *rep, const char *msg)
{
    fprintf(stderr, "nogilrace: warning: %s\n", msg);
    rep->warnings = ngr_xrealloc(rep->warnings, (rep->nwarnings + 1) * sizeof *rep->warnings);
    rep->warnings[rep->nwarnings++] = ngr_xstrdup(msg);
}

int ngr_analyze_inputs(char *const *paths, size_t n, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                       char *err, size_t errlen)
{
    struct group *groups = NULL;
    size_t ngroups = 0, gcap = 0;
    char **reports = NULL;
    size_t nreports = 0, rcap = 0;
    for (size_t i = 0; i < n; i++) {
        if (ngr_is_json_report(paths[i])) {
            NGR_GROW(reports, rcap, nreports + 1);
            reports[nreports++] = paths[i];
            continue;
        }
        char *dir = dir_of(paths[i]);
        size_t g = 0;
        while (g < ngroups && strcmp(groups[g].dir, dir) != 0)
            g++;
        if (g == ngroups) {
            NGR_GROW(groups, gcap, ngroups + 1);
            groups[ngroups++] = (struct group){dir, NULL, 0, 0};
        } else {
            free(dir);
        }
        NGR_GROW(groups[g].paths, groups[g].cap, groups[g].n + 1);
        groups[g].paths[groups[g].n++] = paths[i];
    }
    int rc = 0;
    size_t units = ngroups + nreports, analysed = 0;
    for (size_t g = 0; g < ngroups && rc == 0; g++) {
        struct ngr_report run;
        memset(&run, 0, sizeof run);
        if (ngr_analyze_files(groups[g].paths, groups[g].n, &run, o, err, errlen) != 0) {
            ngr_report_free(&run);
            if (units == 1) {
                rc = -1;
                break;
            }
            warn(rep, err); /* one run that cannot be read does not hide the others */
            continue;
        }
        run.runs = 1;
        ngr_report_absorb(rep, &run);
        ngr_report_free(&run);
        analysed++;
    }
    for (size_t i = 0; i < nreports && rc == 0; i++) {
        struct ngr_report run;
        if (ngr_report_read_json(reports[i], &run, err, errlen) != 0) {
            rc = -1;
            break;
        }
        ngr_report_absorb(rep, &run);
        ngr_report_free(&run);
        analysed++;
    }
    if (rc == 0 && !analysed) {
        snprintf(err, errlen, "none of the %zu runs could be read (each is named above)", ngroups);
        rc = -1;
    }
    if (rc == 0)
        ngr_report_sort(rep);
    for (size_t g = 0; g < ngroups; g++) {
        free(groups[g].dir);
        free(groups[g].paths);
    }
    free(groups);
    free(reports);
    return rc;
}
