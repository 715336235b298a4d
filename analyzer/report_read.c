/* report_read.c — see report_read.h. */
#include "report_read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "groups.h"
#include "json_read.h"
#include "readfile.h"
#include "util.h"

/* The first layout whose race ids are the ids of races (groups): a baseline or a merge needs them.
 * Versions 1 and 2 identified single site pairs. */
#define FIRST_GROUP_VERSION 3

/* ---- the file ------------------------------------------------------------------------------------ */

bool ngr_is_json_report(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return false;
    struct stat st;
    char b[256];
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, b, sizeof b) : -1;
    close(fd);
    size_t i = n >= 3 && !memcmp(b, "\xef\xbb\xbf", 3) ? 3 : 0;
    while ((ssize_t)i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return (ssize_t)i < n && b[i] == '{';
}

/* ---- reading the tree ------------------------------------------------------------------------------ */

struct rd {
    const char *name;
    char *err;
    size_t errlen;
    bool failed;
    char where[256];   /* the field being read: "races[2].accesses[0]" */
};

static int bad(struct rd *r, const struct ngr_jv *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct rd *r, const struct ngr_jv *v, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = true;
    int n = snprintf(r->err, r->errlen, "%s: byte %zu: %s%s", r->name, v ? v->off : 0, r->where,
                     r->where[0] ? ": " : "");
    if (n >= 0 && (size_t)n < r->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* where += suffix, for the duration of one field; returns the old length to restore. */
static size_t enter(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t enter(struct rd *r, const char *fmt, ...)
{
    size_t old = strlen(r->where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->where + old, sizeof r->where - old, fmt, ap);
    va_end(ap);
    return old;
}
static void leave(struct rd *r, size_t old) { r->where[old] = '\0'; }

/* The member key of o, of type t (NGR_JV_NULL: any); missing: NULL, with an error when required. */
static const struct ngr_jv *member(struct rd *r, const struct ngr_jv *o, const char *key, enum ngr_jv_type t,
                                   bool required, bool null_ok)
{
    const struct ngr_jv *v = ngr_jv_get(o, key);
    size_t old = enter(r, "%s%s", r->where[0] ? "." : "", key);
    if (!v) {
        if (required)
            bad(r, o, "missing");
    } else if (v->type == NGR_JV_NULL && null_ok) {
        v = NULL;
    } else if (v->type != t) {
        bad(r, v, "expected %s, found %s", ngr_jv_type_name(t), ngr_jv_type_name(v->type));
        v = NULL;
    }
    leave(r, old);
    return v;
}

static char *str_or_null(struct rd *r, const struct ngr_jv *o, const char *key, bool required)
{
    const struct ngr_jv *v = member(r, o, key, NGR_JV_STR, required, true);
    return v ? ngr_xstrdup(v->str) : NULL;
}

static char *str_or_empty(struct rd *r, const struct ngr_jv *o, const char *key, bool required)
{
    char *s = str_or_null(r, o, key, required);
    return s ? s : ngr_xstrdup("");
}

static bool flag(struct rd *r, const struct ngr_jv *o, const char *key, bool required)
{
    const struct ngr_jv *v = member(r, o, key, NGR_JV_BOOL, required, false);
    return v && v->b;
}

static uint64_t count(struct rd *r, const struct ngr_jv *o, const char *key, bool required, uint64_t dflt)
{
    const struct ngr_jv *v = member(r, o, key, NGR_JV_NUM, required, false);
    if (!v)
        return dflt;
    if (!v->is_uint) {
        size_t old = enter(r, "%s%s", r->where[0] ? "." : "", key);
        bad(r, v, "expected a whole number of 0 or more");
        leave(r, old);
        return dflt;
    }
    return v->u;
}

/* An array of strings into (*out, *n); a missing optional one gives none. */
static void strings(struct rd *r, const struct ngr_jv *o, const char *key, bool required, char ***out, size_t *n)
{
    const struct ngr_jv *a = member(r, o, key, NGR_JV_ARR, required, false);
    *out = NULL;
    *n = 0;
    if (!a || !a->len)
        return;
    *out = ngr_xcalloc(a->len, sizeof **out);
    for (size_t i = 0; i < a->len; i++) {
        if (a->items[i].type != NGR_JV_STR) {
            size_t old = enter(r, "%s%s[%zu]", r->where[0] ? "." : "", key, i);
            bad(r, &a->items[i], "expected a string, found %s", ngr_jv_type_name(a->items[i].type));
            leave(r, old);
            return;
        }
        (*out)[(*n)++] = ngr_xstrdup(a->items[i].str);
    }
}

static void read_access(struct rd *r, const struct ngr_jv *o, struct ngr_access_info *x)
{
    memset(x, 0, sizeof *x);
    if (o->type != NGR_JV_OBJ) {
        bad(r, o, "expected an object, found %s", ngr_jv_type_name(o->type));
        return;
    }
    x->op = str_or_empty(r, o, "op", true);
    x->atomic = flag(r, o, "atomic", true);
    x->pid = (unsigned)count(r, o, "pid", true, 0);
    x->thread = (unsigned)count(r, o, "thread", true, 0);
    x->thread_name = str_or_empty(r, o, "thread_name", true);
    strings(r, o, "locks", true, &x->locks, &x->nlocks);
    const struct ngr_jv *st = member(r, o, "stack", NGR_JV_ARR, true, false);
    if (st && st->len) {
        x->stack = ngr_xcalloc(st->len, sizeof *x->stack);
        for (size_t i = 0; i < st->len && !r->failed; i++) {
            const struct ngr_jv *fr = &st->items[i];
            size_t old = enter(r, ".stack[%zu]", i);
            if (fr->type != NGR_JV_OBJ) {
                bad(r, fr, "expected an object, found %s", ngr_jv_type_name(fr->type));
            } else {
                struct ngr_frame *f = &x->stack[x->depth++];
                f->file = str_or_empty(r, fr, "file", true);
                f->line = (unsigned)count(r, fr, "line", true, 0);
                f->function = str_or_empty(r, fr, "function", true);
            }
            leave(r, old);
        }
    }
    strings(r, o, "native_stack", false, &x->native_stack, &x->nnative);
    x->test = str_or_null(r, o, "test", false);
    x->phase = str_or_null(r, o, "phase", false);
}

static bool kind_of(const char *name, enum ngr_finding_kind *k)
{
    for (int i = NGR_FK_LOST_UPDATE; i <= NGR_FK_UNPROTECTED_WRITE; i++)
        if (!strcmp(name, ngr_finding_kind_name((enum ngr_finding_kind)i))) {
            *k = (enum ngr_finding_kind)i;
            return true;
        }
    return false;
}

static bool valid_id(const char *s)
{
    if (strlen(s) != 16 || strncmp(s, "NGR-", 4) != 0)
        return false;
    for (int i = 4; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* One site as a pair's access: the operation and the innermost frame (all a pair keeps of its
 * sites in the document; the representative's full accesses come from the race's accesses). */
static void read_site(struct rd *r, const struct ngr_jv *o, struct ngr_access_info *x)
{
    memset(x, 0, sizeof *x);
    if (o->type != NGR_JV_OBJ) {
        bad(r, o, "expected an object, found %s", ngr_jv_type_name(o->type));
        return;
    }
    x->op = str_or_empty(r, o, "op", true);
    char *file = str_or_null(r, o, "file", false), *fn = str_or_null(r, o, "function", false);
    unsigned line = (unsigned)count(r, o, "line", false, 0);
    if (!file) {
        free(fn);
        return;
    }
    x->stack = ngr_xcalloc(1, sizeof *x->stack);
    x->stack[0] = (struct ngr_frame){file, line, fn ? fn : ngr_xstrdup("?")};
    x->depth = 1;
}

static void read_pairs(struct rd *r, const struct ngr_jv *o, struct ngr_finding *f)
{
    const struct ngr_jv *pairs = member(r, o, "pairs", NGR_JV_ARR, true, false);
    if (!pairs || r->failed)
        return;
    if (!pairs->len) {
        size_t old = enter(r, ".pairs");
        bad(r, pairs, "expected at least one site pair");
        leave(r, old);
        return;
    }
    f->pairs = ngr_xcalloc(pairs->len, sizeof *f->pairs);
    for (size_t j = 0; j < pairs->len && !r->failed; j++) {
        const struct ngr_jv *po = &pairs->items[j];
        size_t old = enter(r, ".pairs[%zu]", j);
        struct ngr_site_pair *p = &f->pairs[f->npairs++];
        if (po->type != NGR_JV_OBJ) {
            bad(r, po, "expected an object, found %s", ngr_jv_type_name(po->type));
            leave(r, old);
            break;
        }
        const struct ngr_jv *id = member(r, po, "id", NGR_JV_STR, true, false);
        if (id && !valid_id(id->str)) {
            size_t o2 = enter(r, ".id");
            bad(r, id, "expected NGR- and 12 hex digits");
            leave(r, o2);
        }
        if (id)
            snprintf(p->id, sizeof p->id, "%s", id->str);
        p->observed = flag(r, po, "observed", true);
        p->count = count(r, po, "count", true, 1);
        p->variable = str_or_empty(r, po, "variable", true);
        p->key = str_or_null(r, po, "key", false);
        if (j == 0) { /* the representative: what the race itself holds in full */
            ngr_access_copy(&p->access[0], &f->access[0]);
            ngr_access_copy(&p->access[1], &f->access[1]);
            p->message = ngr_xstrdup(f->message ? f->message : "");
        } else {
            const struct ngr_jv *sites = member(r, po, "sites", NGR_JV_ARR, true, false);
            if (sites && sites->len != 2) {
                size_t o2 = enter(r, ".sites");
                bad(r, sites, "expected an array of 2 sites, found %zu", sites->len);
                leave(r, o2);
            } else if (sites) {
                for (int k = 0; k < 2 && !r->failed; k++) {
                    size_t o2 = enter(r, ".sites[%d]", k);
                    read_site(r, &sites->items[k], &p->access[k]);
                    leave(r, o2);
                }
            }
            p->message = ngr_xasprintf("%s on %s", ngr_finding_kind_name(f->kind), p->variable);
        }
        leave(r, old);
    }
}

static void read_race(struct rd *r, const struct ngr_jv *o, struct ngr_finding *f)
{
    memset(f, 0, sizeof *f);
    if (o->type != NGR_JV_OBJ) {
        bad(r, o, "expected an object, found %s", ngr_jv_type_name(o->type));
        return;
    }
    const struct ngr_jv *id = member(r, o, "id", NGR_JV_STR, true, false);
    if (id && !valid_id(id->str)) {
        size_t old = enter(r, ".id");
        bad(r, id, "expected NGR- and 12 hex digits");
        leave(r, old);
    }
    if (id)
        snprintf(f->id, sizeof f->id, "%s", id->str);
    const struct ngr_jv *kind = member(r, o, "kind", NGR_JV_STR, true, false);
    if (kind && !kind_of(kind->str, &f->kind)) {
        size_t old = enter(r, ".kind");
        bad(r, kind, "unknown kind (lost-update, check-then-act, iteration-during-mutation, unprotected-write)");
        leave(r, old);
    }
    f->observed = flag(r, o, "observed", true);
    f->severity = f->observed ? NGR_SEV_ERROR : NGR_SEV_WARNING;
    f->variable = str_or_empty(r, o, "variable", true);
    f->var_name = str_or_null(r, o, "var_name", false);
    if (!f->var_name)
        f->var_name = ngr_xstrdup(f->variable);
    f->key = str_or_null(r, o, "key", false);
    f->var_kind = str_or_empty(r, o, "var_kind", false);
    f->count = count(r, o, "count", true, 1);
    f->message = str_or_empty(r, o, "message", false);
    f->hint = str_or_empty(r, o, "hint", false);
    const struct ngr_jv *acc = member(r, o, "accesses", NGR_JV_ARR, true, false);
    if (acc && acc->len != 2) {
        size_t old = enter(r, ".accesses");
        bad(r, acc, "expected an array of 2 accesses, found %zu", acc->len);
        leave(r, old);
    } else if (acc) {
        for (int i = 0; i < 2 && !r->failed; i++) {
            size_t old = enter(r, ".accesses[%d]", i);
            read_access(r, &acc->items[i], &f->access[i]);
            leave(r, old);
        }
    }
    strings(r, o, "tests", false, &f->tests, &f->ntests);
    if (f->ntests > NGR_MAX_TESTS) { /* another writer's limit: keep ours */
        for (size_t i = NGR_MAX_TESTS; i < f->ntests; i++)
            free(f->tests[i]);
        f->tests_more += f->ntests - NGR_MAX_TESTS;
        f->ntests = NGR_MAX_TESTS;
    }
    f->tests_more += count(r, o, "tests_more", false, 0);
    f->runs = (unsigned)count(r, o, "runs", false, 1);
    if (!f->runs)
        f->runs = 1;
    f->objects = count(r, o, "objects", false, 1);
    f->keys = count(r, o, "keys", false, 0);
    strings(r, o, "key_examples", false, &f->key_examples, &f->nkey_examples);
    if (f->nkey_examples > NGR_MAX_KEY_EXAMPLES) {
        for (size_t i = NGR_MAX_KEY_EXAMPLES; i < f->nkey_examples; i++)
            free(f->key_examples[i]);
        f->nkey_examples = NGR_MAX_KEY_EXAMPLES;
    }
    if (!r->failed)
        read_pairs(r, o, f);
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void read_report(struct rd *r, const struct ngr_jv *doc, struct ngr_report *rep)
{
    if (doc->type != NGR_JV_OBJ) {
        bad(r, doc, "expected a nogilrace JSON report (an object), found %s", ngr_jv_type_name(doc->type));
        return;
    }
    const struct ngr_jv *tool = member(r, doc, "tool", NGR_JV_OBJ, true, false);
    const struct ngr_jv *tname = tool ? member(r, tool, "name", NGR_JV_STR, true, false) : NULL;
    if (r->failed || !tname || strcmp(tname->str, "nogilrace") != 0) {
        r->failed = false;
        r->where[0] = '\0';
        bad(r, doc, "not a nogilrace JSON report (no tool.name \"nogilrace\")");
        return;
    }
    const struct ngr_jv *version = ngr_jv_get(doc, "version");
    uint64_t v = count(r, doc, "version", true, 0);
    if (!r->failed && v < FIRST_GROUP_VERSION)
        bad(r, version, "version: a version %" PRIu64 " report: its ids name single site pairs, not races "
                        "(version %d and later); write it again with this nogilrace", v, FIRST_GROUP_VERSION);
    rep->python_version = str_or_null(r, doc, "python", false);
    rep->gil_enabled = flag(r, doc, "gil_enabled", false);
    rep->free_threaded = flag(r, doc, "free_threaded", false);
    char **gil_by;
    size_t ngil;
    strings(r, doc, "gil_enabled_by", false, &gil_by, &ngil);
    if (ngil) {
        rep->gil_notes = ngr_xcalloc(ngil, sizeof *rep->gil_notes);
        for (size_t i = 0; i < ngil; i++)
            rep->gil_notes[rep->ngil_notes++] = (struct ngr_gil_note){gil_by[i], true, 0};
    }
    free(gil_by);
    rep->events = count(r, doc, "events", false, 0);
    const struct ngr_jv *traces = member(r, doc, "traces", NGR_JV_ARR, false, false);
    if (traces && traces->len) {
        rep->procs = ngr_xcalloc(traces->len, sizeof *rep->procs);
        for (size_t i = 0; i < traces->len && !r->failed; i++) {
            const struct ngr_jv *t = &traces->items[i];
            size_t old = enter(r, "traces[%zu]", i);
            if (t->type != NGR_JV_OBJ) {
                bad(r, t, "expected an object, found %s", ngr_jv_type_name(t->type));
            } else {
                struct ngr_process_info *p = &rep->procs[rep->processes++];
                p->trace = str_or_empty(r, t, "file", false);
                p->pid = (unsigned)count(r, t, "pid", false, 0);
                p->ppid = (unsigned)count(r, t, "ppid", false, 0);
                p->cmdline = str_or_empty(r, t, "cmdline", false);
                p->finished = flag(r, t, "finished", false);
                p->events = count(r, t, "events", false, 0);
                p->untraced = flag(r, t, "untraced", false);
                p->stopped_early = flag(r, t, "stopped_early", false);
                p->python = ngr_xstrdup("");
                rep->untraced += p->untraced;
                rep->stopped_early += p->stopped_early;
            }
            leave(r, old);
        }
    }
    strings(r, doc, "warnings", false, &rep->warnings, &rep->nwarnings);
    const struct ngr_jv *sum = member(r, doc, "summary", NGR_JV_OBJ, false, false);
    if (sum) {
        size_t old = enter(r, "summary");
        rep->suppressed = count(r, sum, "suppressed", false, 0);
        rep->suppressed_pairs = count(r, sum, "suppressed_pairs", false, 0);
        rep->traces_no_header = count(r, sum, "traces_without_header", false, 0);
        rep->traces_unreadable = count(r, sum, "traces_unreadable", false, 0);
        leave(r, old);
    }
    rep->runs = (unsigned)count(r, doc, "runs", false, 1);
    if (!rep->runs)
        rep->runs = 1;
    const struct ngr_jv *races = member(r, doc, "races", NGR_JV_ARR, true, false);
    if (races && races->len) {
        rep->findings = ngr_xcalloc(races->len, sizeof *rep->findings);
        for (size_t i = 0; i < races->len && !r->failed; i++) {
            size_t old = enter(r, "races[%zu]", i);
            struct ngr_finding *f = &rep->findings[rep->nfindings++];
            read_race(r, &races->items[i], f);
            if (f->ntests > 1)
                qsort(f->tests, f->ntests, sizeof *f->tests, cmp_str);
            leave(r, old);
        }
    }
}

int ngr_report_read_json_mem(const char *name, const char *buf, size_t len, struct ngr_report *rep, char *err,
                             size_t errlen)
{
    struct ngr_jv doc;
    char jerr[256];
    memset(rep, 0, sizeof *rep);
    if (ngr_json_parse(buf, len, &doc, jerr, sizeof jerr) != 0) {
        snprintf(err, errlen, "%s: %s", name, jerr);
        return -1;
    }
    struct rd r = {.name = name, .err = err, .errlen = errlen};
    read_report(&r, &doc, rep);
    ngr_jv_free(&doc);
    if (r.failed) {
        ngr_report_free(rep);
        return -1;
    }
    return 0;
}

int ngr_report_read_json(const char *path, struct ngr_report *rep, char *err, size_t errlen)
{
    char *buf, why[256];
    size_t len;
    memset(rep, 0, sizeof *rep);
    if (ngr_read_small_file(path, NGR_REPORT_MAX_BYTES, &buf, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    int rc = ngr_report_read_json_mem(path, buf, len, rep, err, errlen);
    free(buf);
    return rc;
}
