/* output_json.c — `report --format=json`: one document, fields as in docs/json-schema.md.
 * Field names are a stable contract: add fields, never rename or remove them. */
#include <string.h>

#include "groups.h"
#include "json_writer.h"
#include "output.h"

/* ---- shared with output_sarif.c -------------------------------------------------------------- */

static const struct ngr_rule_text rules[] = {
    [NGR_FK_LOST_UPDATE] = {
        "LostUpdate",
        "Read-modify-write of shared state by several threads without a common lock.",
        "A thread read a variable and wrote back a value computed from it (`n += 1`, "
        "`d[k] = d[k] + 1`) while another thread wrote the same variable, and no lock was held "
        "across both the read and the write. Without the GIL the interleaving read, read, write, "
        "write loses one of the updates.",
        "Hold one lock around the read and the write (`with lock: n += 1`), in every thread that "
        "writes the variable, or keep the state in a thread-safe structure (queue.Queue, a "
        "per-thread value merged at the end).",
    },
    [NGR_FK_CHECK_THEN_ACT] = {
        "CheckThenAct",
        "A check and the action that depends on it are not atomic.",
        "A thread tested shared state (`if key not in cache`, `if _instance is None`) and then "
        "acted on the result, while another thread changed that state between the check and "
        "the act with no lock held across both. Lazy initialisation runs twice, a cache entry is "
        "overwritten, a delete raises KeyError.",
        "Take a lock around the check and the act together; for lazy initialisation use "
        "double-checked locking (check, lock, check again, assign), or an atomic operation such "
        "as dict.setdefault.",
    },
    [NGR_FK_ITERATION_DURING_MUTATION] = {
        "IterationDuringMutation",
        "A container was iterated while another thread modified it.",
        "One thread iterated over a shared dict, list or set while another thread added, removed "
        "or replaced items without a common lock. The iteration may raise `RuntimeError: "
        "dictionary changed size during iteration`, skip items or see some twice.",
        "Hold the lock that protects the container while iterating, or iterate over a copy made "
        "under that lock (`with lock: items = list(d.items())`).",
    },
    [NGR_FK_UNPROTECTED_WRITE] = {
        "UnprotectedWrite",
        "Shared state is written by several threads with no common lock.",
        "Two threads wrote the same variable and no lock was held by both writes, so the final "
        "value depends on scheduling and readers may see either write.",
        "Protect every write (and the reads that depend on it) with the same lock, or make one "
        "thread the only writer and hand values to it through a queue.",
    },
};

const struct ngr_rule_text *ngr_rule_text(enum ngr_finding_kind kind)
{
    if (kind < NGR_FK_LOST_UPDATE || kind > NGR_FK_UNPROTECTED_WRITE)
        return NULL;
    return &rules[kind];
}

const char *ngr_severity_name(enum ngr_severity s)
{
    return s == NGR_SEV_ERROR ? "error" : "warning";
}

/* ---- the document ---------------------------------------------------------------------------- */

static void str_array(struct ngr_jw *w, const char *key, char *const *v, size_t n)
{
    ngr_jw_key(w, key);
    ngr_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        ngr_jw_str(w, v[i]);
    ngr_jw_arr_end(w);
}

static void access_json(struct ngr_jw *w, const struct ngr_access_info *a)
{
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "op", a->op ? a->op : "");
    ngr_jw_kbool(w, "atomic", a->atomic);
    ngr_jw_kuint(w, "pid", a->pid);
    ngr_jw_kuint(w, "thread", a->thread);
    ngr_jw_kstr(w, "thread_name", a->thread_name);
    str_array(w, "locks", a->locks, a->nlocks);
    ngr_jw_key(w, "stack");
    ngr_jw_arr_begin(w);
    for (size_t i = 0; i < a->depth; i++) {
        const struct ngr_frame *fr = &a->stack[i];
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "file", fr->file ? fr->file : "");
        ngr_jw_kuint(w, "line", fr->line);
        ngr_jw_kstr(w, "function", fr->function ? fr->function : "");
        ngr_jw_obj_end(w);
    }
    ngr_jw_arr_end(w);
    str_array(w, "native_stack", a->native_stack, a->nnative);
    ngr_jw_kstr(w, "test", a->test);
    ngr_jw_kstr(w, "phase", a->phase);
    ngr_jw_obj_end(w);
}

/* A site of a pair: the access's operation and innermost frame (null fields without a stack). */
static void site_json(struct ngr_jw *w, const struct ngr_access_info *a)
{
    const struct ngr_frame *fr = a->depth ? &a->stack[0] : NULL;
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "op", a->op ? a->op : "");
    ngr_jw_kstr(w, "file", fr ? fr->file : NULL);
    ngr_jw_kuint(w, "line", fr ? fr->line : 0);
    ngr_jw_kstr(w, "function", fr ? fr->function : NULL);
    ngr_jw_obj_end(w);
}

/* The group: every site pair (the representative first), and the objects and keys. */
static void group_json(struct ngr_jw *w, const struct ngr_finding *f)
{
    ngr_jw_kuint(w, "objects", f->objects);
    ngr_jw_kuint(w, "keys", f->keys);
    str_array(w, "key_examples", f->key_examples, f->nkey_examples);
    ngr_jw_key(w, "pairs");
    ngr_jw_arr_begin(w);
    for (size_t i = 0; i < ngr_group_npairs(f); i++) {
        struct ngr_site_pair tmp;
        const struct ngr_site_pair *p = ngr_group_pair(f, i, &tmp);
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "id", p->id);
        ngr_jw_kbool(w, "observed", p->observed);
        ngr_jw_kuint(w, "count", p->count);
        ngr_jw_kstr(w, "variable", p->variable ? p->variable : "");
        ngr_jw_kstr(w, "key", p->key);
        ngr_jw_key(w, "sites");
        ngr_jw_arr_begin(w);
        site_json(w, &p->access[0]);
        site_json(w, &p->access[1]);
        ngr_jw_arr_end(w);
        ngr_jw_obj_end(w);
    }
    ngr_jw_arr_end(w);
}

static void finding_json(struct ngr_jw *w, const struct ngr_finding *f)
{
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "id", f->id);
    ngr_jw_kstr(w, "kind", ngr_finding_kind_name(f->kind));
    ngr_jw_kstr(w, "severity", ngr_severity_name(f->severity));
    ngr_jw_kstr(w, "variable", f->variable ? f->variable : "");
    ngr_jw_kstr(w, "var_name", f->var_name ? f->var_name : f->variable ? f->variable : "");
    ngr_jw_kstr(w, "key", f->key);
    ngr_jw_kstr(w, "var_kind", f->var_kind);
    ngr_jw_kbool(w, "observed", f->observed);
    ngr_jw_kuint(w, "count", f->count);
    ngr_jw_kstr(w, "message", f->message);
    ngr_jw_kstr(w, "hint", f->hint);
    ngr_jw_key(w, "accesses");
    ngr_jw_arr_begin(w);
    access_json(w, &f->access[0]);
    access_json(w, &f->access[1]);
    ngr_jw_arr_end(w);
    group_json(w, f);
    str_array(w, "tests", f->tests, f->ntests);
    ngr_jw_kuint(w, "tests_more", f->tests_more);
    ngr_jw_kuint(w, "runs", f->runs ? f->runs : 1);
    ngr_jw_kbool(w, "in_baseline", f->in_baseline);
    ngr_jw_obj_end(w);
}

/* The run's facts, as members of the open object: the interpreter, who enabled the GIL, how many
 * processes and events.  The JSON document's top level and the SARIF run's properties carry the
 * same members under the same names. */
void ngr_output_run_facts(struct ngr_jw *w, const struct ngr_report *r)
{
    ngr_jw_kstr(w, "python", r->python_version);
    ngr_jw_kbool(w, "gil_enabled", r->gil_enabled);
    ngr_jw_kbool(w, "free_threaded", r->free_threaded);
    ngr_jw_key(w, "gil_enabled_by");
    ngr_jw_arr_begin(w);
    for (size_t i = 0; i < r->ngil_notes; i++)
        if (r->gil_notes[i].enabled)
            ngr_jw_str(w, r->gil_notes[i].module);
    ngr_jw_arr_end(w);
    ngr_jw_kuint(w, "processes", r->processes);
    ngr_jw_kuint(w, "events", r->events);
}

int ngr_output_json(FILE *f, const struct ngr_report *r, const struct ngr_output_opts *o)
{
    struct ngr_jw w;
    ngr_jw_init(&w, f, 2);
    size_t observed = 0, pairs = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        observed += r->findings[i].observed;
        pairs += ngr_group_npairs(&r->findings[i]);
    }

    ngr_jw_obj_begin(&w);
    ngr_jw_kint(&w, "version", NGR_JSON_SCHEMA_VERSION);
    ngr_jw_key(&w, "tool");
    ngr_jw_obj_begin(&w);
    ngr_jw_kstr(&w, "name", "nogilrace");
    ngr_jw_kstr(&w, "version", o && o->tool_version ? o->tool_version : "unknown");
    ngr_jw_obj_end(&w);
    ngr_output_run_facts(&w, r);
    ngr_jw_key(&w, "traces");
    ngr_jw_arr_begin(&w);
    for (size_t i = 0; i < r->processes && r->procs; i++) {
        const struct ngr_process_info *p = &r->procs[i];
        ngr_jw_obj_begin(&w);
        ngr_jw_kstr(&w, "file", p->trace);
        ngr_jw_kuint(&w, "pid", p->pid);
        ngr_jw_kuint(&w, "ppid", p->ppid);
        ngr_jw_kstr(&w, "cmdline", p->cmdline);
        ngr_jw_kbool(&w, "finished", p->finished);
        ngr_jw_kuint(&w, "events", p->events);
        ngr_jw_kbool(&w, "untraced", p->untraced);
        ngr_jw_kbool(&w, "stopped_early", p->stopped_early);
        ngr_jw_obj_end(&w);
    }
    ngr_jw_arr_end(&w);
    str_array(&w, "warnings", r->warnings, r->nwarnings);
    ngr_jw_key(&w, "summary");
    ngr_jw_obj_begin(&w);
    ngr_jw_kuint(&w, "races", r->nfindings);
    ngr_jw_kuint(&w, "observed", observed);
    ngr_jw_kuint(&w, "potential", r->nfindings - observed);
    ngr_jw_kuint(&w, "suppressed", r->suppressed);
    ngr_jw_kuint(&w, "untraced", r->untraced);
    ngr_jw_kuint(&w, "stopped_early", r->stopped_early);
    ngr_jw_kuint(&w, "traces_without_header", r->traces_no_header);
    ngr_jw_kuint(&w, "traces_unreadable", r->traces_unreadable);
    ngr_jw_kuint(&w, "site_pairs", pairs);
    ngr_jw_kuint(&w, "suppressed_pairs", r->suppressed_pairs);
    ngr_jw_kuint(&w, "new", r->nfindings - r->known);
    ngr_jw_kuint(&w, "known", r->known);
    ngr_jw_obj_end(&w);
    ngr_jw_kuint(&w, "runs", r->runs ? r->runs : 1);
    ngr_jw_kstr(&w, "baseline", r->baseline);
    ngr_jw_key(&w, "races");
    ngr_jw_arr_begin(&w);
    for (size_t i = 0; i < r->nfindings; i++)
        finding_json(&w, &r->findings[i]);
    ngr_jw_arr_end(&w);
    ngr_jw_obj_end(&w);
    ngr_jw_newline(&w);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
