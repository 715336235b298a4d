/* findings.c — the helpers declared in findings.h and analysis.h for building a ngr_report. */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "findings.h"
#include "merge.h"
#include "util.h"

const char *ngr_finding_kind_name(enum ngr_finding_kind kind)
{
    switch (kind) {
    case NGR_FK_LOST_UPDATE: return "lost-update";
    case NGR_FK_CHECK_THEN_ACT: return "check-then-act";
    case NGR_FK_ITERATION_DURING_MUTATION: return "iteration-during-mutation";
    case NGR_FK_UNPROTECTED_WRITE: return "unprotected-write";
    }
    return "unknown";
}

static void access_free(struct ngr_access_info *x)
{
    free(x->op);
    free(x->thread_name);
    for (size_t i = 0; i < x->nlocks; i++)
        free(x->locks[i]);
    free(x->locks);
    for (size_t i = 0; i < x->depth; i++) {
        free(x->stack[i].file);
        free(x->stack[i].function);
    }
    free(x->stack);
    for (size_t i = 0; i < x->nnative; i++)
        free(x->native_stack[i]);
    free(x->native_stack);
    free(x->test);
    free(x->phase);
}

void ngr_finding_free(struct ngr_finding *f)
{
    free(f->variable);
    free(f->var_name);
    free(f->key);
    free(f->var_kind);
    access_free(&f->access[0]);
    access_free(&f->access[1]);
    free(f->message);
    free(f->hint);
    for (size_t i = 0; i < f->ntests; i++)
        free(f->tests[i]);
    free(f->tests);
    memset(f, 0, sizeof *f);
}

void ngr_report_merge_finding(struct ngr_report *rep, struct ngr_finding *f)
{
    if (!f->runs)
        f->runs = 1;
    struct ngr_finding *g = ngr_report_find_maybe(rep, f->id);
    if (g)
        ngr_finding_absorb(g, f, false);
    else
        ngr_report_append(rep, f);
}

static int cmp_finding(const void *a, const void *b)
{
    const struct ngr_finding *x = a, *y = b;
    if (x->observed != y->observed)
        return x->observed ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcmp(x->variable, y->variable);
    return c ? c : strcmp(x->id, y->id);
}

void ngr_report_sort(struct ngr_report *rep)
{
    ngr_report_index_free(rep); /* it holds indexes, which the sort changes */
    if (rep->nfindings > 1)
        qsort(rep->findings, rep->nfindings, sizeof *rep->findings, cmp_finding);
}

void ngr_report_free(struct ngr_report *r)
{
    for (size_t i = 0; i < r->nfindings; i++)
        ngr_finding_free(&r->findings[i]);
    free(r->findings);
    free(r->python_version);
    for (size_t i = 0; i < r->processes; i++) {
        free(r->procs[i].trace);
        free(r->procs[i].cmdline);
    }
    free(r->procs);
    for (size_t i = 0; i < r->ngil_notes; i++)
        free(r->gil_notes[i].module);
    free(r->gil_notes);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    ngr_report_index_free(r);
    memset(r, 0, sizeof *r);
}
