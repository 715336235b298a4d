/* output_text.c — the text report for people (docs/report-formats.md, "text"): one block per
 * finding, the GIL notes, one summary line that also says what could not be seen (processes that
 * ran untraced, tracing stopped early, trace files without a header or unreadable). */
#include <inttypes.h>
#include <string.h>

#include "escape.h"
#include "output.h"

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
        fprintf(f, ", %s, seen %" PRIu64 " time%s)  [",
                x->observed ? "observed: the accesses were unordered in this run"
                            : "potential: ordered in this run, but by no common lock",
                x->count, x->count == 1 ? "" : "s");
        E(x->id);
        fputs("]\n  ", f);
        E(x->message);
        fputc('\n', f);
        const char *role0 = x->kind == NGR_FK_UNPROTECTED_WRITE ? "" : " (start of the unprotected sequence)";
        text_access(f, &x->access[0], role0);
        text_access(f, &x->access[1], " (conflicting)");
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
    size_t observed = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        observed += r->findings[i].observed;
    fprintf(f, "nogilrace: %zu race%s found (%zu observed, %zu potential)", r->nfindings, r->nfindings == 1 ? "" : "s",
            observed, r->nfindings - observed);
    if (r->suppressed)
        fprintf(f, ", %zu suppressed", r->suppressed);
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

