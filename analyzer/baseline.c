/* baseline.c — see baseline.h. */
#include "baseline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "merge.h"
#include "report_read.h"
#include "util.h"

struct ngr_baseline {
    char *path;
    struct ngr_report rep;   /* its findings, found by id through rep.by_id */
};

struct ngr_baseline *ngr_baseline_load(const char *path, char *err, size_t errlen)
{
    struct ngr_baseline *b = ngr_xcalloc(1, sizeof *b);
    char why[1024];
    if (ngr_report_read_json(path, &b->rep, why, sizeof why) != 0) {
        snprintf(err, errlen, "--baseline: %s", why);
        free(b);
        return NULL;
    }
    b->path = ngr_xstrdup(path);
    return b;
}

void ngr_baseline_apply(const struct ngr_baseline *b, struct ngr_report *rep)
{
    struct ngr_baseline *mb = (struct ngr_baseline *)b; /* the id table is built on first use */
    rep->known = 0;
    for (size_t i = 0; i < rep->nfindings; i++) {
        struct ngr_finding *f = &rep->findings[i];
        f->in_baseline = ngr_report_find_maybe(&mb->rep, f->id) != NULL;
        rep->known += f->in_baseline;
    }
    rep->baseline = b->path;
}

int ngr_baseline_write(const char *path, const struct ngr_report *rep, const struct ngr_baseline *b,
                       const struct ngr_output_opts *oo, char *err, size_t errlen)
{
    /* A shallow copy of rep whose finding array also holds the baseline's findings it lacks:
     * the strings stay with their owners. */
    struct ngr_report out = *rep;
    size_t extra = b ? b->rep.nfindings : 0;
    out.findings = ngr_xcalloc(rep->nfindings + extra + 1, sizeof *out.findings);
    out.by_id = NULL;
    memcpy(out.findings, rep->findings, rep->nfindings * sizeof *out.findings);
    struct ngr_report *mrep = (struct ngr_report *)rep;
    for (size_t i = 0; i < extra; i++) {
        const struct ngr_finding *g = &b->rep.findings[i];
        if (!ngr_report_find_maybe(mrep, g->id)) {
            out.findings[out.nfindings] = *g;
            out.findings[out.nfindings++].in_baseline = true;
        }
    }
    ngr_findings_order(out.findings, out.nfindings); /* no settling: these are borrowed, and settled */
    char *tmp = ngr_xasprintf("%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = -1;
    if (!f) {
        snprintf(err, errlen, "--write-baseline: cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
    } else {
        bool ok = ngr_output_json(f, &out, oo) == 0;
        ok = fsync(fileno(f)) == 0 && ok;
        ok = fclose(f) == 0 && ok;
        if (!ok) {
            snprintf(err, errlen, "--write-baseline: cannot write %s: %s", tmp, strerror(errno));
            unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            snprintf(err, errlen, "--write-baseline: cannot rename %s to %s: %s", tmp, path, strerror(errno));
            unlink(tmp);
        } else {
            rc = 0;
        }
    }
    free(tmp);
    free(out.findings);
    ngr_report_index_free(&out);
    return rc;
}

void ngr_baseline_free(struct ngr_baseline *b)
{
    if (!b)
        return;
    ngr_report_free(&b->rep);
    free(b->path);
    free(b);
}
