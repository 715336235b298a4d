/* merge.c — see merge.h. */
#include "merge.h"

#include <string.h>

#include "analysis.h"
#include "groups.h"
#include "uthash_ngr.h"
#include "util.h"

struct ngr_id_index {
    char id[20];          /* the finding's id, the key */
    size_t ix;            /* its index in report->findings */
    UT_hash_handle hh;
};

void ngr_report_index_free(struct ngr_report *rep)
{
    struct ngr_id_index *e, *tmp;
    HASH_ITER(hh, rep->by_id, e, tmp) {
        HASH_DEL(rep->by_id, e);
        free(e);
    }
    rep->by_id = NULL;
}

static void index_add(struct ngr_report *rep, size_t ix)
{
    struct ngr_id_index *e = ngr_xcalloc(1, sizeof *e);
    memcpy(e->id, rep->findings[ix].id, sizeof e->id);
    e->id[sizeof e->id - 1] = '\0';
    e->ix = ix;
    HASH_ADD_STR(rep->by_id, id, e);
}

struct ngr_finding *ngr_report_find_maybe(struct ngr_report *rep, const char *id)
{
    if (!rep->nfindings)
        return NULL;
    if (!rep->by_id) /* not built yet, or dropped by a sort */
        for (size_t i = 0; i < rep->nfindings; i++)
            index_add(rep, i);
    struct ngr_id_index *e;
    HASH_FIND_STR(rep->by_id, id, e);
    return e ? &rep->findings[e->ix] : NULL;
}

static void report_append(struct ngr_report *rep, struct ngr_finding *f)
{
    rep->findings = ngr_xrealloc(rep->findings, (rep->nfindings + 1) * sizeof *rep->findings);
    rep->findings[rep->nfindings++] = *f;
    memset(f, 0, sizeof *f);
    if (rep->by_id) /* else the next lookup builds the table with this one in it */
        index_add(rep, rep->nfindings - 1);
}

/* ---- tests -------------------------------------------------------------------------------------- */

/* g->tests becomes the sorted union of both lists (each sorted and without repeats), cut at
 * NGR_MAX_TESTS with the rest counted in tests_more; f's list is consumed. */
static void tests_union(struct ngr_finding *g, struct ngr_finding *f)
{
    if (!f->ntests) {
        g->tests_more += f->tests_more;
        return;
    }
    char **out = ngr_xcalloc(g->ntests + f->ntests, sizeof *out);
    size_t i = 0, j = 0, n = 0;
    uint64_t more = g->tests_more + f->tests_more;
    while (i < g->ntests || j < f->ntests) {
        char *next;
        if (j >= f->ntests || (i < g->ntests && strcmp(g->tests[i], f->tests[j]) < 0)) {
            next = g->tests[i++];
        } else if (i >= g->ntests || strcmp(g->tests[i], f->tests[j]) > 0) {
            next = f->tests[j++];
        } else { /* in both */
            next = g->tests[i++];
            free(f->tests[j++]);
        }
        if (n < NGR_MAX_TESTS) {
            out[n++] = next;
        } else {
            free(next);
            more++;
        }
    }
    free(g->tests);
    free(f->tests);
    f->tests = NULL;
    f->ntests = 0;
    g->tests = out;
    g->ntests = n;
    g->tests_more = more;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void ngr_finding_add_tests(struct ngr_finding *g, char **tests, size_t n, uint64_t more)
{
    if (n > 1)
        qsort(tests, n, sizeof *tests, cmp_str);
    size_t k = 0; /* one test id twice (two string ids of one text: a fork child's copied table) */
    for (size_t i = 0; i < n; i++) {
        if (k && !strcmp(tests[k - 1], tests[i]))
            free(tests[i]);
        else
            tests[k++] = tests[i];
    }
    struct ngr_finding f = {.tests = tests, .ntests = k, .tests_more = more};
    if (!k) {
        free(tests);
        f.tests = NULL;
    }
    tests_union(g, &f);
}

void ngr_finding_absorb(struct ngr_finding *g, struct ngr_finding *f, bool add_runs)
{
    unsigned gruns = g->runs ? g->runs : 1, fruns = f->runs ? f->runs : 1;
    bool known = g->in_baseline || f->in_baseline;
    tests_union(g, f); /* before the pairs: ngr_group_absorb frees what is left of f */
    ngr_group_absorb(g, f);
    g->runs = add_runs ? gruns + fruns : gruns;
    g->in_baseline = known;
}

/* ---- reports ------------------------------------------------------------------------------------ */

void ngr_report_add(struct ngr_report *rep, struct ngr_finding *f, bool add_runs)
{
    if (!f->runs)
        f->runs = 1;
    struct ngr_finding *g = ngr_report_find_maybe(rep, f->id);
    if (g)
        ngr_finding_absorb(g, f, add_runs);
    else
        report_append(rep, f);
}

#define MOVE_ARRAY(dst, ndst, src, nsrc)                                                              \
    do {                                                                                              \
        if ((nsrc)) {                                                                                 \
            (dst) = ngr_xrealloc((dst), ((ndst) + (nsrc)) * sizeof *(dst));                           \
            memcpy((dst) + (ndst), (src), (nsrc) * sizeof *(src));                                    \
            (ndst) += (nsrc);                                                                         \
        }                                                                                             \
        free(src);                                                                                    \
        (src) = NULL;                                                                                 \
        (nsrc) = 0;                                                                                   \
    } while (0)

void ngr_report_absorb(struct ngr_report *total, struct ngr_report *run)
{
    for (size_t i = 0; i < run->nfindings; i++)
        ngr_report_add(total, &run->findings[i], true);
    free(run->findings);
    run->findings = NULL;
    run->nfindings = 0;
    ngr_report_index_free(run);
    total->suppressed += run->suppressed;
    total->suppressed_pairs += run->suppressed_pairs;
    total->untraced += run->untraced;
    total->stopped_early += run->stopped_early;
    total->traces_no_header += run->traces_no_header;
    total->traces_unreadable += run->traces_unreadable;
    if (!total->python_version && run->python_version) {
        total->python_version = run->python_version;
        total->free_threaded = run->free_threaded;
        run->python_version = NULL;
    }
    total->gil_enabled = total->gil_enabled || run->gil_enabled;
    total->events += run->events;
    size_t procs = total->processes;
    MOVE_ARRAY(total->procs, procs, run->procs, run->processes);
    total->processes = procs;
    MOVE_ARRAY(total->gil_notes, total->ngil_notes, run->gil_notes, run->ngil_notes);
    MOVE_ARRAY(total->warnings, total->nwarnings, run->warnings, run->nwarnings);
    total->runs += run->runs ? run->runs : 1;
    run->runs = 0;
}
