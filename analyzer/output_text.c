/* output_text.c — the text report for people (docs/report-formats.md, "text"): one block per
 * finding (a group: its representative pair's two stacks, then one line per other site pair and
 * what objects and keys it was seen on), the GIL notes, one summary line that also says what could
 * not be seen (processes that ran untraced, tracing stopped early, trace files without a header
 * or unreadable). */
#include <inttypes.h>
#include <string.h>

#include "escape.h"
#include "groups.h"
#include "output.h"

/* Other site pairs listed under a finding; the rest are counted (JSON lists them all). */
#define TEXT_MAX_PAIRS 10

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

/* Every name in the text report goes through ngr_text_escape (escape.h): a thread, variable, file
 * or lock name holding a newline or an escape sequence cannot forge a finding or drive the terminal. */
#define E(s) ngr_text_puts(f, (s))

static void text_access(FILE *f, const struct ngr_access_info *x, const char *role)
{
    fprintf(f, "  %s%s%s by thread %u \"", op_text(x->op), x->atomic ? " (atomic)" : "", role, x->thread);
    E(x->thread_name);
    fputc('"', f);
    if (x->pid)
        fprintf(f, " (pid %u)", x->pid);
    if (x->test) {
        fputs(" in ", f);
        E(x->test);
        if (x->phase) {
            fputs(" (", f);
            E(x->phase);
            fputc(')', f);
        }
    }
    if (x->nlocks) {
        fputs(", holding ", f);
        for (size_t i = 0; i < x->nlocks; i++) {
            fputs(i ? ", " : "", f);
            E(x->locks[i]);
        }
    } else {
        fputs(", holding no lock", f);
    }
    fputs(":\n", f);
    if (!x->depth)
        fputs("      (no Python stack recorded)\n", f);
    for (size_t i = 0; i < x->depth; i++) {
        fprintf(f, "    #%zu ", i);
        E(x->stack[i].function);
        fputc(' ', f);
        E(x->stack[i].file);
        fprintf(f, ":%u\n", x->stack[i].line);
    }
    for (size_t i = 0; i < x->nnative; i++) {
        fprintf(f, "    native #%zu ", i);
        E(x->native_stack[i]);
        fputc('\n', f);
    }
}

/* "Read at worker app.py:30": an access of another site pair, by its innermost frame. */
static void text_site(FILE *f, const struct ngr_access_info *x)
{
    fputs(op_text(x->op ? x->op : "access"), f);
    if (!x->depth) {
        fputs(" (no Python stack recorded)", f);
        return;
    }
    fputs(" at ", f);
    E(x->stack[0].function);
    fputc(' ', f);
    E(x->stack[0].file);
    fprintf(f, ":%u", x->stack[0].line);
}

/* The group beyond its representative: its other site pairs, and the objects and keys. */
static void text_group(FILE *f, const struct ngr_finding *x)
{
    size_t n = ngr_group_npairs(x);
    if (n > 1)
        fprintf(f, "  %zu other site pair%s:\n", n - 1, n == 2 ? "" : "s");
    for (size_t i = 1; i < n && i <= TEXT_MAX_PAIRS; i++) {
        struct ngr_site_pair tmp;
        const struct ngr_site_pair *p = ngr_group_pair(x, i, &tmp);
        fputs("    ", f);
        text_site(f, &p->access[0]);
        fputs(", ", f);
        text_site(f, &p->access[1]);
        fprintf(f, " (%s, %" PRIu64 " time%s)\n", p->observed ? "observed" : "potential", p->count,
                p->count == 1 ? "" : "s");
    }
    if (n - 1 > TEXT_MAX_PAIRS)
        fprintf(f, "    ... and %zu more (--format=json lists them all)\n", n - 1 - TEXT_MAX_PAIRS);
    if (x->objects <= 1 && x->keys <= 1)
        return;
    fputs("  Seen on ", f);
    if (x->objects > 1)
        /* a closure variable's "objects" are its cells: one per call of the function owning it */
        fprintf(f, "%" PRIu64 " %s%s", x->objects,
                x->var_kind && !strcmp(x->var_kind, "closure") ? "closures" : "objects",
                x->keys > 1 ? " and " : "");
    if (x->keys > 1) {
        fprintf(f, "%" PRIu64 " keys", x->keys);
        for (size_t i = 0; i < x->nkey_examples; i++) {
            fputs(i ? ", " : ": ", f);
            E(x->key_examples[i]);
        }
        if (x->keys > x->nkey_examples)
            fputs(", ...", f);
    }
    fputc('\n', f);
}

/* Where the finding stands beyond this run (issue #15): known from the baseline, the runs it was
 * seen in, the tests its accesses ran in. */
static void text_context(FILE *f, const struct ngr_report *r, const struct ngr_finding *x)
{
    if (x->in_baseline) {
        fputs("  Known: in the baseline ", f);
        E(r->baseline ? r->baseline : "");
        fputc('\n', f);
    }
    if (r->runs > 1)
        fprintf(f, "  Seen in %u of %u runs\n", x->runs ? x->runs : 1, r->runs);
    for (size_t t = 0; t < x->ntests; t++) {
        fputs(t ? ", " : x->ntests + x->tests_more > 1 ? "  In tests: " : "  In test: ", f);
        E(x->tests[t]);
    }
    if (x->tests_more)
        fprintf(f, ", and %" PRIu64 " more", x->tests_more);
    if (x->ntests)
        fputc('\n', f);
}

/* "Python 3.13.5" from a sys.version string: its first word. */
static void python_name(FILE *f, const char *version)
{
    if (!version || !version[0]) {
        fputs("Python (version not recorded)", f);
        return;
    }
    fputs("Python ", f);
    ngr_text_escape(f, version, strcspn(version, " "));
}

/* The first process that ran untraced (or, untraced false, whose tracing stopped early), or NULL. */
static const struct ngr_process_info *first_with(const struct ngr_report *r, bool untraced)
{
    for (size_t i = 0; i < r->processes; i++)
        if (untraced ? r->procs[i].untraced : r->procs[i].stopped_early)
            return &r->procs[i];
    return NULL;
}

/* What the report could not see, for the summary line: processes that ran untraced (name the
 * interpreter and why, from the NOTE), processes whose tracing stopped early (why), trace files
 * without a header or unreadable.  Each is a cause of a non-zero exit status or a warning. */
static void summary_gaps(FILE *f, const struct ngr_report *r)
{
    const struct ngr_process_info *p;
    if (r->untraced && (p = first_with(r, true))) {
        fprintf(f, "; %zu Python process%s ran untraced (%spid %u, ", r->untraced, r->untraced == 1 ? "" : "es",
                r->untraced == 1 ? "" : "first: ", p->pid);
        python_name(f, p->python);
        fputs(": ", f);
        E(p->note ? p->note : "its CPython hooks were missing or failed");
        fputc(')', f);
    }
    if (r->stopped_early && (p = first_with(r, false))) {
        fprintf(f, "; tracing stopped early in %zu process%s (%spid %u: ", r->stopped_early,
                r->stopped_early == 1 ? "" : "es", r->stopped_early == 1 ? "" : "first: ", p->pid);
        E(p->note ? p->note : "no reason recorded");
        fputs("), events are missing", f);
    }
    if (r->traces_no_header)
        fprintf(f, "; %zu trace%s without a header (process%s that died at start)", r->traces_no_header,
                r->traces_no_header == 1 ? "" : "s", r->traces_no_header == 1 ? "" : "es");
    if (r->traces_unreadable)
        fprintf(f, "; %zu trace%s unreadable (named above)", r->traces_unreadable, r->traces_unreadable == 1 ? "" : "s");
}

int ngr_output_text(FILE *f, const struct ngr_report *r)
{
    static const char rule[] = "==================";
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct ngr_finding *x = &r->findings[i];
        fprintf(f, "%s\nWARNING: nogilrace: %s on ", rule, ngr_finding_kind_name(x->kind));
        E(x->variable);
        fputs(" (", f);
        E(x->var_kind);
        fprintf(f, ", %s, seen %" PRIu64 " time%s",
                x->observed ? "observed: the accesses were unordered in this run"
                            : "potential: ordered in this run, but by no common lock",
                x->count, x->count == 1 ? "" : "s");
        if (ngr_group_npairs(x) > 1)
            fprintf(f, " at %zu site pairs", ngr_group_npairs(x));
        fputs(")  [", f);
        E(x->id);
        fputs("]\n  ", f);
        E(x->message);
        fputc('\n', f);
        text_context(f, r, x);
        const char *role0 = x->kind == NGR_FK_UNPROTECTED_WRITE ? "" : " (start of the unprotected sequence)";
        text_access(f, &x->access[0], role0);
        text_access(f, &x->access[1], " (conflicting)");
        text_group(f, x);
        fputs("  Fix: ", f);
        E(x->hint);
        fputc('\n', f);
    }
    if (r->nfindings)
        fprintf(f, "%s\n", rule);
    for (size_t i = 0; i < r->ngil_notes; i++)
        if (r->gil_notes[i].enabled) {
            fputs("note: the GIL was enabled by importing ", f);
            E(r->gil_notes[i].module);
            fprintf(f, " (pid %u): races may hide while it is on\n", r->gil_notes[i].pid);
        }
    size_t observed = 0, pairs = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        observed += r->findings[i].observed;
        pairs += ngr_group_npairs(&r->findings[i]);
    }
    /* a race is a finding, one bug however many places it was seen in */
    fprintf(f, "nogilrace: %zu race%s found", r->nfindings, r->nfindings == 1 ? "" : "s");
    if (pairs > r->nfindings)
        fprintf(f, " at %zu site pairs", pairs);
    fprintf(f, " (%zu observed, %zu potential)", observed, r->nfindings - observed);
    if (r->suppressed)
        fprintf(f, ", %zu suppressed", r->suppressed);
    if (r->suppressed_pairs)
        fprintf(f, ", %zu site pair%s of the races above suppressed", r->suppressed_pairs,
                r->suppressed_pairs == 1 ? "" : "s");
    if (r->baseline)
        fprintf(f, ", %zu new, %zu in the baseline", r->nfindings - r->known, r->known);
    if (r->runs > 1)
        fprintf(f, "; %u runs", r->runs);
    fprintf(f, "; %zu process%s, %" PRIu64 " events", r->processes, r->processes == 1 ? "" : "es", r->events);
    if (r->python_version) {
        fputs("; ", f);
        python_name(f, r->python_version);
    }
    if (r->free_threaded)
        fprintf(f, " free-threaded, GIL %s", r->gil_enabled ? "enabled" : "disabled");
    summary_gaps(f, r);
    fputc('\n', f);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
#undef E

