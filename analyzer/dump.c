/* dump.c — see dump.h. */
#include "dump.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "inputs.h"
#include "trace.h"
#include "util.h"

static void json_field_str(FILE *f, const char *name, const char *s)
{
    fprintf(f, ",\"%s\":", name);
    ngr_json_cstr(f, s);
}

static void json_trace_str(FILE *f, const struct ngr_trace *t, uint32_t id)
{
    const struct ngr_str *s = ngr_trace_str_maybe(t, id);
    ngr_json_str(f, s ? s->p : "", s ? s->len : 0);
}

void ngr_dump_stack_json(FILE *f, const struct ngr_trace *t, uint32_t stack_id)
{
    putc('[', f);
    const struct ngr_stack *st = stack_id ? ngr_trace_stack_maybe(t, stack_id) : NULL;
    for (unsigned i = 0; st && i < st->depth; i++) {
        const struct ngr_loc *l = ngr_trace_loc_maybe(t, ngr_stack_at(st, i));
        fputs(i ? ",{\"file\":" : "{\"file\":", f);
        if (l) {
            json_trace_str(f, t, l->file);
            fprintf(f, ",\"line\":%u,\"function\":", l->line);
            json_trace_str(f, t, l->func);
        } else {
            fputs("\"?\",\"line\":0,\"function\":\"?\"", f);
        }
        putc('}', f);
    }
    putc(']', f);
}

static void native_stack_json(FILE *f, const struct ngr_trace *t, uint32_t id)
{
    const struct ngr_stack *st = id ? ngr_trace_nstack_maybe(t, id) : NULL;
    if (!st)
        return;
    fputs(",\"native_stack\":[", f);
    for (unsigned i = 0; i < st->depth; i++) {
        if (i)
            putc(',', f);
        json_trace_str(f, t, ngr_stack_at(st, i));
    }
    putc(']', f);
}

static void locks_json(FILE *f, const struct ngr_trace *t, const struct ngr_thread *th, bool text)
{
    if (!text)
        fputs(",\"locks\":[", f);
    else
        fputs(" locks=[", f);
    for (size_t i = 0; i < th->nheld; i++) {
        char *n = ngr_trace_obj_name(t, th->held[i].obj);
        if (i)
            putc(',', f);
        if (text) {
            ngr_text_puts(f, n);
            fputs(th->held[i].rd ? "(rd)" : "", f);
        } else
            ngr_json_cstr(f, n);
        free(n);
    }
    putc(']', f);
}

static void text_stack(FILE *f, const struct ngr_trace *t, uint32_t stack_id)
{
    const struct ngr_stack *st = stack_id ? ngr_trace_stack_maybe(t, stack_id) : NULL;
    if (!st || !st->depth)
        return;
    const struct ngr_loc *l = ngr_trace_loc_maybe(t, ngr_stack_at(st, 0));
    if (!l)
        return;
    char *file = ngr_trace_strdup(t, l->file), *fn = ngr_trace_strdup(t, l->func);
    fputs(" at ", f);
    ngr_text_puts(f, file);
    fprintf(f, ":%u in ", l->line);
    ngr_text_puts(f, fn);
    free(file);
    free(fn);
}

static void dump_meta(FILE *f, const struct ngr_trace *t, bool json)
{
    if (!t->meta)
        return;
    for (size_t k = 0; k < t->meta->nchunks; k++) {
        const struct ngr_chunk_ref *ch = &t->meta->chunks[k];
        for (uint64_t off = ch->data; off < ch->data_end;) {
            uint64_t w0 = ngr_trace_word(t, off, 0);
            unsigned op = ngr_w0_op(w0), fl = ngr_w0_flags(w0);
            uint32_t arg = ngr_w0_arg(w0);
            unsigned words = ngr_w0_words(w0);
            /* every metadata op handled has >= 2 words; an unknown 1-word record may end the file */
            uint64_t w1 = words > 1 ? ngr_trace_word(t, off, 1) : 0;
            off += 8ull * words;
            if (op == NGR_OP_PROCESS) {
                char *v = ngr_trace_strdup(t, (uint32_t)w1), *c = ngr_trace_strdup(t, (uint32_t)(w1 >> 32));
                if (json) {
                    fprintf(f, "{\"type\":\"process\",\"gil_enabled\":%s,\"free_threaded\":%s,\"no_hooks\":%s",
                            fl & NGR_PROC_GIL_ENABLED ? "true" : "false",
                            fl & NGR_PROC_FREE_THREADED ? "true" : "false",
                            fl & NGR_PROC_NO_HOOKS ? "true" : "false");
                    json_field_str(f, "version", v);
                    json_field_str(f, "cmdline", c);
                    fputs("}\n", f);
                } else {
                    fputs("process: python ", f);
                    ngr_text_puts(f, v);
                    fprintf(f, ", %s, GIL %s%s, cmdline: ", fl & NGR_PROC_FREE_THREADED ? "free-threaded build" : "GIL build",
                            fl & NGR_PROC_GIL_ENABLED ? "enabled" : "disabled",
                            fl & NGR_PROC_NO_HOOKS ? ", untraced (no CPython hooks)" : "");
                    ngr_text_line(f, "", c);
                }
                free(v);
                free(c);
            } else if (op == NGR_OP_GIL) {
                char *m = ngr_trace_strdup(t, arg);
                if (json) {
                    fprintf(f, "{\"type\":\"gil\",\"enabled\":%s", fl & 1 ? "true" : "false");
                    json_field_str(f, "module", m);
                    fputs("}\n", f);
                } else {
                    fprintf(f, "gil: %s by module ", fl & 1 ? "enabled" : "disabled");
                    ngr_text_line(f, "", m);
                }
                free(m);
            } else if (op == NGR_OP_NOTE) {
                char *m = ngr_trace_strdup(t, (uint32_t)w1);
                const char *kind = fl == NGR_NOTE_WARNING ? "warning" : "info";
                if (json) {
                    fprintf(f, "{\"type\":\"note\",\"kind\":\"%s\"", kind);
                    json_field_str(f, "message", m);
                    fputs("}\n", f);
                } else {
                    fprintf(f, "note (%s): ", kind);
                    ngr_text_line(f, "", m);
                }
                free(m);
            }
        }
    }
}

static void dump_header(FILE *f, const struct ngr_trace *t, bool json)
{
    const struct ngr_file_header *h = &t->hdr;
    static const char *const flag_names[] = {"finished", "exec", "disabled", "forked"};
    if (json) {
        fputs("{\"type\":\"header\",\"file\":", f);
        ngr_json_cstr(f, t->path);
        fprintf(f, ",\"pid\":%u,\"ppid\":%u,\"trace_id\":\"%016" PRIx64 "\",\"parent_trace_id\":\"%016" PRIx64
                   "\",\"finished\":%s,\"flags\":[",
                h->pid, h->ppid, h->trace_id, h->parent_trace_id, h->flags & NGR_HDR_FINISHED ? "true" : "false");
        bool first = true;
        for (unsigned b = 0; b < 4; b++)
            if (h->flags & (1u << b)) {
                fprintf(f, "%s\"%s\"", first ? "" : ",", flag_names[b]);
                first = false;
            }
        fputs("]}\n", f);
    } else {
        fputs("trace ", f);
        ngr_text_puts(f, t->path);
        fprintf(f, ": pid %u ppid %u id %016" PRIx64 " parent %016" PRIx64 "%s%s%s%s\n",
                h->pid, h->ppid, h->trace_id, h->parent_trace_id, h->flags & NGR_HDR_FINISHED ? " finished" : " unfinished",
                h->flags & NGR_HDR_EXEC ? " exec" : "", h->flags & NGR_HDR_DISABLED ? " disabled" : "",
                h->flags & NGR_HDR_FORKED ? " forked" : "");
    }
}

static void dump_event(FILE *f, const struct ngr_trace *t, const struct ngr_replay *r, char **tnames,
                       const struct ngr_event *ev, bool json)
{
    const struct ngr_thread *th = &r->threads[ev->tix];
    const char *tname = tnames[ev->tix];
    if (ev->op == NGR_OP_ACCESS) {
        const struct ngr_var *v = ngr_trace_var_maybe(t, ev->var_id);
        char *var = ngr_trace_var_name(t, ev->var_id), *key = ngr_trace_key_repr(t, ev->key_id);
        if (json) {
            fprintf(f, "{\"type\":\"access\",\"thread\":%u", th->num);
            json_field_str(f, "thread_name", tname);
            fprintf(f, ",\"kind\":\"%s\",\"atomic\":%s", ngr_access_kind_name(ev->kind), ev->atomic ? "true" : "false");
            json_field_str(f, "var", var);
            fprintf(f, ",\"var_kind\":\"%s\",\"key\":", v ? ngr_var_kind_name(v->kind) : "other");
            if (key)
                ngr_json_cstr(f, key);
            else
                fputs("null", f);
            fprintf(f, ",\"frame\":\"0x%" PRIx64 "\"", ev->frame_id);
            locks_json(f, t, th, false);
            fputs(",\"stack\":", f);
            ngr_dump_stack_json(f, t, ev->stack_id);
            native_stack_json(f, t, ev->native_stack_id);
            fputs("}\n", f);
        } else {
            fprintf(f, "  T%u %-10s %s", th->num, ngr_access_kind_name(ev->kind), ev->atomic ? "(atomic) " : "");
            ngr_text_puts(f, var);
            if (key) {
                fputc('[', f);
                ngr_text_puts(f, key);
                fputc(']', f);
            }
            fprintf(f, " frame=0x%" PRIx64, ev->frame_id);
            locks_json(f, t, th, true);
            text_stack(f, t, ev->stack_id);
            putc('\n', f);
        }
        free(var);
        free(key);
    } else if (ev->op == NGR_OP_SYNC) {
        const struct ngr_sobj *o = ngr_trace_sobj_maybe(t, ev->obj);
        char *obj = ngr_trace_obj_name(t, ev->obj);
        if (json) {
            fprintf(f, "{\"type\":\"sync\",\"thread\":%u", th->num);
            json_field_str(f, "thread_name", tname);
            fprintf(f, ",\"kind\":\"%s\"", ngr_sync_kind_name(ev->kind));
            json_field_str(f, "obj", obj);
            fprintf(f, ",\"obj_kind\":\"%s\",\"seq\":%" PRIu64 ",\"count\":%u", o ? ngr_sobj_kind_name(o->kind) : "other",
                    ev->seq, ev->count);
            locks_json(f, t, th, false);
            fputs(",\"stack\":", f);
            ngr_dump_stack_json(f, t, ev->stack_id);
            native_stack_json(f, t, ev->native_stack_id);
            fputs("}\n", f);
        } else {
            fprintf(f, "%" PRIu64 " T%u %s ", ev->seq, th->num, ngr_sync_kind_name(ev->kind));
            ngr_text_puts(f, obj);
            if (ev->count)
                fprintf(f, " count=%u", ev->count);
            locks_json(f, t, th, true);
            text_stack(f, t, ev->stack_id);
            putc('\n', f);
        }
        free(obj);
    } else if (ev->op == NGR_OP_MARK) {
        static const char *const phases[] = {NULL, "setup", "call", "teardown"};
        unsigned ph = ev->kind & NGR_MARK_PHASE_MASK;
        const char *phase = ph < 4 ? phases[ph] : NULL;
        bool begin = (ev->kind & NGR_MARK_BEGIN) != 0;
        char *label = ngr_trace_strdup(t, ev->var_id);
        if (json) {
            fprintf(f, "{\"type\":\"mark\",\"thread\":%u", th->num);
            json_field_str(f, "thread_name", tname);
            json_field_str(f, "label", label);
            fputs(",\"phase\":", f);
            if (phase)
                fprintf(f, "\"%s\"", phase);
            else
                fputs("null", f);
            fprintf(f, ",\"begin\":%s}\n", begin ? "true" : "false");
        } else {
            fprintf(f, "  T%u mark %s ", th->num, begin ? "begin" : "end");
            ngr_text_puts(f, label);
            fprintf(f, "%s%s\n", phase ? " " : "", phase ? phase : "");
        }
        free(label);
    } else {
        if (json) {
            fprintf(f, "{\"type\":\"thread\",\"thread\":%u", th->num);
            json_field_str(f, "thread_name", tname);
            fprintf(f, ",\"kind\":\"%s\",\"other\":%u,\"seq\":%" PRIu64 "}\n", ngr_thread_kind_name(ev->kind),
                    ev->other, ev->seq);
        } else {
            fprintf(f, "%" PRIu64 " T%u (", ev->seq, th->num);
            ngr_text_puts(f, tname);
            fprintf(f, ") %s other=%u\n", ngr_thread_kind_name(ev->kind), ev->other);
        }
    }
}

/* 0, or -1 with a line in err when the file shrank while it was read (sigbus.h). */
static int dump_trace(FILE *f, const struct ngr_trace *t, bool json, char *err, size_t errlen)
{
    dump_header(f, t, json);
    dump_meta(f, t, json);
    struct ngr_replay r;
    ngr_replay_init(&r, t);
    r.want_marks = true;
    char **tnames = ngr_xcalloc(r.nthreads ? r.nthreads : 1, sizeof *tnames);
    for (size_t i = 0; i < r.nthreads; i++)
        tnames[i] = ngr_trace_thread_name(t, r.threads[i].num);
    struct ngr_event ev;
    while (ngr_replay_next(&r, &ev))
        dump_event(f, t, &r, tnames, &ev, json);
    if (t->have_end) {
        if (json)
            fprintf(f, "{\"type\":\"end\",\"events\":%" PRIu64 "}\n", t->end_records);
        else
            fprintf(f, "end: %" PRIu64 " records written, last seq %" PRIu64 "\n", t->end_records, t->end_last_seq);
    }
    for (size_t i = 0; i < r.nthreads; i++)
        free(tnames[i]);
    free(tnames);
    ngr_replay_free(&r);
    return ngr_trace_check_shrunk(t, err, errlen);
}

int ngr_cmd_dump(int argc, char **argv)
{
    bool json = false, paths_only = false;
    struct ngr_inputs in = {0};
    char err[512];
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!paths_only && strcmp(a, "--") == 0) {
            paths_only = true;
        } else if (!paths_only && strcmp(a, "--json") == 0) {
            json = true;
        } else if (!paths_only && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            printf("usage: nogilrace dump [--json] TRACE_OR_DIR...\n"
                   "  every record of the traces in replay order, names and locksets resolved\n");
            ngr_inputs_free(&in);
            return 0;
        } else if (!paths_only && a[0] == '-' && a[1]) {
            fprintf(stderr, "nogilrace: dump: unknown option %s\n", a);
            ngr_inputs_free(&in);
            return 2;
        } else if (ngr_inputs_add(&in, a, err, sizeof err) != 0) {
            ngr_text_line(stderr, "nogilrace: ", err);
            ngr_inputs_free(&in);
            return 2;
        }
    }
    if (!in.n) {
        fprintf(stderr, "nogilrace: dump: no trace files given (usage: nogilrace dump [--json] TRACE_OR_DIR...)\n");
        ngr_inputs_free(&in);
        return 2;
    }
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    for (size_t i = 0; i < in.n && rc == 0; i++) {
        struct ngr_trace t;
        if (ngr_trace_open(&t, in.paths[i], err, sizeof err) != 0) {
            fflush(stdout);
            /* a process that died before writing its header left nothing to dump: say so, go on */
            ngr_text_line(stderr, t.no_header && in.n > 1 ? "nogilrace: warning: " : "nogilrace: ", err);
            rc = t.no_header && in.n > 1 ? 0 : 2;
        } else {
            for (size_t w = 0; w < t.nwarnings; w++)
                ngr_text_line(stderr, "nogilrace: warning: ", t.warnings[w]);
            if (dump_trace(stdout, &t, json, err, sizeof err) != 0) {
                fflush(stdout);
                ngr_text_line(stderr, "nogilrace: ", err);
                rc = 2;
            }
        }
        ngr_trace_close(&t);
    }
    if (fflush(stdout) != 0 && rc == 0) {
        perror("nogilrace: dump: writing output");
        rc = 2;
    }
    ngr_inputs_free(&in);
    return rc;
}
