/* findings.c — the helpers declared in findings.h and analysis.h for building a ngr_report. */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "findings.h"
#include "groups.h"
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

void ngr_access_info_free(struct ngr_access_info *x)
{
    access_free(x);
    memset(x, 0, sizeof *x);
}

void ngr_site_pair_free(struct ngr_site_pair *p)
{
    free(p->variable);
    free(p->key);
    access_free(&p->access[0]);
    access_free(&p->access[1]);
    free(p->message);
    memset(p, 0, sizeof *p);
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
    for (size_t i = 0; i < f->npairs; i++)
        ngr_site_pair_free(&f->pairs[i]);
    free(f->pairs);
    for (size_t i = 0; i < f->nkey_examples; i++)
        free(f->key_examples[i]);
    free(f->key_examples);
    for (size_t i = 0; i < f->ntests; i++)
        free(f->tests[i]);
    free(f->tests);
    memset(f, 0, sizeof *f);
}

void ngr_report_merge_finding(struct ngr_report *rep, struct ngr_finding *f)
{
    ngr_report_add(rep, f, false); /* one bug seen in several processes of a run: one finding */
}

static int cmp_finding(const void *a, const void *b)
{
    const struct ngr_finding *x = a, *y = b;
    if (x->observed != y->observed)
        return x->observed ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    /* the name without the key: the key shown is one of many, and may differ from run to run */
    int c = strcmp(x->var_name ? x->var_name : x->variable, y->var_name ? y->var_name : y->variable);
    return c ? c : strcmp(x->id, y->id);
}

void ngr_findings_order(struct ngr_finding *f, size_t n)
{
    if (n > 1)
        qsort(f, n, sizeof *f, cmp_finding);
}

void ngr_report_sort(struct ngr_report *rep)
{
    for (size_t i = 0; i < rep->nfindings; i++)
        ngr_group_settle(&rep->findings[i]);
    ngr_report_index_free(rep); /* it holds indexes, which the sort changes */
    ngr_findings_order(rep->findings, rep->nfindings);
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
        free(r->procs[i].python);
        free(r->procs[i].note);
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
