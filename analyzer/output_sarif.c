/* output_sarif.c — `report --format=sarif`: a SARIF 2.1.0 log that GitHub code scanning accepts.
 *
 * One rule per finding kind (tool.driver.rules, ruleIndex = kind - 1), one result per finding (a
 * group: issue #13).  A result's location is the source line of its representative pair's first
 * access (the innermost frame with a real file; the second access when only it has one), the
 * other access is a related location linked from the message, the group's other site pairs add
 * theirs, and both Python stacks of the representative go in result.stacks, in its order.
 * Files under base_dir get relative URIs with uriBaseId "SRCROOT" (declared in
 * originalUriBaseIds), others absolute file:// URIs.  partialFingerprints carry the finding's
 * stable id, so code scanning tracks an alert across runs even when lines move. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "groups.h"
#include "json_writer.h"
#include "output.h"
#include "util.h"

#define SARIF_SCHEMA "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define BASE_ID "SRCROOT"
#define MAX_RELATED 50   /* related locations per result: the other access, then other pairs' sites */

/* ---- strings --------------------------------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t n, cap;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = ngr_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_puts(struct sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

/* Text that SARIF renders as-is: '[', ']' and '\' are escaped so that a recorded name such as
 * app.cache['k'] is not read as an embedded link (SARIF 2.1.0 §3.11.6). */
static void sb_text(struct sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '[' || *s == ']' || *s == '\\')
            sb_putn(b, "\\", 1);
        sb_putn(b, s, 1);
    }
}

/* Percent-encodes a path for a URI: unreserved characters and '/' stay, every other byte
 * becomes %XX (RFC 3986). */
static void sb_uri_path(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~' || c == '/') {
            char ch = (char)c;
            sb_putn(b, &ch, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_putn(b, e, 3);
        }
    }
}

/* ---- locations ------------------------------------------------------------------------------- */

/* The frame a result points at: the innermost one with a real source file ("<frozen ...>",
 * "<string>" and unknown lines have no place to point to). */
static const struct ngr_frame *site(const struct ngr_access_info *a)
{
    for (size_t i = 0; i < a->depth; i++) {
        const struct ngr_frame *fr = &a->stack[i];
        if (fr->file && fr->file[0] && fr->file[0] != '<' && fr->line > 0)
            return fr;
    }
    return NULL;
}

static void artifact_location(struct ngr_jw *w, const char *file, const char *base)
{
    struct sbuf u = {0};
    size_t bl = base ? strlen(base) : 0;
    while (bl > 1 && base[bl - 1] == '/')
        bl--;
    bool relative = false;
    const char *rel = file;
    if (file[0] != '/') {
        relative = true; /* recorded relative to the working directory the program ran in */
        if (rel[0] == '.' && rel[1] == '/')
            rel += 2;
    } else if (bl > 0 && strncmp(file, base, bl) == 0 && file[bl] == '/' && file[bl + 1]) {
        relative = true;
        rel = file + bl + 1;
    } else if (bl == 1 && base[0] == '/') {
        relative = true;
        rel = file + 1;
    }
    ngr_jw_key(w, "artifactLocation");
    ngr_jw_obj_begin(w);
    if (relative) {
        sb_uri_path(&u, rel);
        ngr_jw_kstr(w, "uri", u.p ? u.p : "");
        ngr_jw_kstr(w, "uriBaseId", BASE_ID);
    } else {
        sb_puts(&u, "file://");
        sb_uri_path(&u, file);
        ngr_jw_kstr(w, "uri", u.p);
    }
    ngr_jw_obj_end(w);
    free(u.p);
}

static void physical_location(struct ngr_jw *w, const struct ngr_frame *fr, const char *base)
{
    ngr_jw_key(w, "physicalLocation");
    ngr_jw_obj_begin(w);
    artifact_location(w, fr->file, base);
    ngr_jw_key(w, "region");
    ngr_jw_obj_begin(w);
    ngr_jw_kuint(w, "startLine", fr->line);
    ngr_jw_obj_end(w);
    ngr_jw_obj_end(w);
}

static void logical_function(struct ngr_jw *w, const char *function)
{
    if (!function || !function[0])
        return;
    ngr_jw_key(w, "logicalLocations");
    ngr_jw_arr_begin(w);
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "fullyQualifiedName", function);
    ngr_jw_kstr(w, "kind", "function");
    ngr_jw_obj_end(w);
    ngr_jw_arr_end(w);
}

/* "read by thread 2 (worker-1) holding app.lock" */
static void describe_access(struct sbuf *b, const struct ngr_access_info *a)
{
    char num[32];
    sb_text(b, a->op && a->op[0] ? a->op : "access");
    snprintf(num, sizeof num, " by thread %u", a->thread);
    sb_puts(b, num);
    if (a->thread_name && a->thread_name[0]) {
        sb_puts(b, " (");
        sb_text(b, a->thread_name);
        sb_puts(b, ")");
    }
    if (a->pid) {
        snprintf(num, sizeof num, " of process %u", a->pid);
        sb_puts(b, num);
    }
    if (a->nlocks == 0) {
        sb_puts(b, " holding no lock");
    } else {
        sb_puts(b, " holding ");
        for (size_t i = 0; i < a->nlocks; i++) {
            if (i)
                sb_puts(b, ", ");
            sb_text(b, a->locks[i]);
        }
    }
}

/* A location object for one access: physical when it has a real source line, else logical only
 * (the variable), so the result still says where. */
static void access_location(struct ngr_jw *w, const struct ngr_finding *f, const struct ngr_access_info *a,
                            const char *base, int id, const char *msg)
{
    const struct ngr_frame *fr = site(a);
    ngr_jw_obj_begin(w);
    if (id >= 0)
        ngr_jw_kint(w, "id", id);
    if (fr) {
        physical_location(w, fr, base);
        logical_function(w, fr->function);
    } else {
        ngr_jw_key(w, "logicalLocations");
        ngr_jw_arr_begin(w);
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "fullyQualifiedName", f->variable ? f->variable : "");
        ngr_jw_kstr(w, "kind", "variable");
        ngr_jw_obj_end(w);
        ngr_jw_arr_end(w);
    }
    if (msg) {
        ngr_jw_key(w, "message");
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "text", msg);
        ngr_jw_obj_end(w);
    }
    ngr_jw_obj_end(w);
}

static void stack_json(struct ngr_jw *w, const struct ngr_access_info *a, const char *base)
{
    struct sbuf m = {0};
    describe_access(&m, a);
    ngr_jw_obj_begin(w);
    ngr_jw_key(w, "message");
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "text", m.p);
    ngr_jw_obj_end(w);
    ngr_jw_key(w, "frames");
    ngr_jw_arr_begin(w);
    for (size_t i = 0; i < a->depth; i++) {
        const struct ngr_frame *fr = &a->stack[i];
        ngr_jw_obj_begin(w);
        ngr_jw_key(w, "location");
        ngr_jw_obj_begin(w);
        if (fr->file && fr->file[0] && fr->file[0] != '<' && fr->line > 0)
            physical_location(w, fr, base);
        logical_function(w, fr->function);
        if (fr->file && fr->file[0] == '<') {
            ngr_jw_key(w, "message");
            ngr_jw_obj_begin(w);
            ngr_jw_kstr(w, "text", fr->file);
            ngr_jw_obj_end(w);
        }
        ngr_jw_obj_end(w);
        ngr_jw_obj_end(w);
    }
    ngr_jw_arr_end(w);
    ngr_jw_obj_end(w);
    free(m.p);
}

/* ---- results --------------------------------------------------------------------------------- */

/* Is fr's line one of the n frames already listed? */
static bool listed(const struct ngr_frame *const *seen, size_t n, const struct ngr_frame *fr)
{
    for (size_t i = 0; i < n; i++)
        if (seen[i]->line == fr->line && strcmp(seen[i]->file, fr->file) == 0)
            return true;
    return false;
}

/* The sites of the group's other pairs as related locations (ids from 2), each line once and
 * none already shown, at most MAX_RELATED in all. */
static void other_pairs_json(struct ngr_jw *w, const struct ngr_finding *f, const char *base,
                             const struct ngr_access_info *a0, const struct ngr_access_info *a1)
{
    size_t n = ngr_group_npairs(f), nseen = 0;
    const struct ngr_frame *seen[MAX_RELATED + 1];
    if (site(a0))
        seen[nseen++] = site(a0);
    if (site(a1))
        seen[nseen++] = site(a1);
    int id = 2;
    for (size_t i = 1; i < n && nseen <= MAX_RELATED; i++) {
        struct ngr_site_pair tmp;
        const struct ngr_site_pair *p = ngr_group_pair(f, i, &tmp);
        for (int k = 0; k < 2 && nseen <= MAX_RELATED; k++) {
            const struct ngr_frame *fr = site(&p->access[k]);
            if (!fr || listed(seen, nseen, fr))
                continue;
            seen[nseen++] = fr;
            char *m = ngr_xasprintf("site pair %zu of %zu (%s, %llu time%s): %s", i + 1, n,
                                    p->observed ? "observed" : "potential", (unsigned long long)p->count,
                                    p->count == 1 ? "" : "s", p->access[k].op ? p->access[k].op : "access");
            access_location(w, f, &p->access[k], base, id++, m);
            free(m);
        }
    }
}

static void result_json(struct ngr_jw *w, const struct ngr_finding *f, const char *base)
{
    /* The result sits on the first access, or on the other one when only that one has a source
     * line: code scanning needs a physical location to show an alert on a file. */
    const struct ngr_access_info *a0 = &f->access[0], *a1 = &f->access[1];
    if (!site(a0) && site(a1)) {
        a0 = &f->access[1];
        a1 = &f->access[0];
    }
    struct sbuf msg = {0}, rel = {0};
    if (f->message && f->message[0]) {
        sb_text(&msg, f->message);
    } else {
        sb_puts(&msg, ngr_finding_kind_name(f->kind));
        sb_puts(&msg, " on ");
        sb_text(&msg, f->variable);
    }
    sb_puts(&msg, " (");
    sb_puts(&msg, f->observed ? "observed" : "potential");
    sb_puts(&msg, ", ");
    sb_puts(&msg, f->id);
    sb_puts(&msg, "). This access: ");
    describe_access(&msg, a0);
    sb_puts(&msg, "; the [other access](1): ");
    describe_access(&msg, a1);
    sb_puts(&msg, ".");
    char num[160];
    if (ngr_group_npairs(f) > 1) {
        snprintf(num, sizeof num, " Seen at %zu site pairs (related locations).", ngr_group_npairs(f));
        sb_puts(&msg, num);
    }
    if (f->objects > 1 || f->keys > 1) {
        snprintf(num, sizeof num, " On %llu object%s and %llu key%s.", (unsigned long long)f->objects,
                 f->objects == 1 ? "" : "s", (unsigned long long)f->keys, f->keys == 1 ? "" : "s");
        sb_puts(&msg, num);
    }
    if (f->hint && f->hint[0]) {
        sb_puts(&msg, " Fix: ");
        sb_text(&msg, f->hint);
    }
    for (size_t i = 0; i < f->ntests; i++) {
        sb_puts(&msg, i ? ", " : f->ntests + f->tests_more > 1 ? " In tests: " : " In test: ");
        sb_text(&msg, f->tests[i]);
    }
    if (f->ntests)
        sb_puts(&msg, f->tests_more ? ", and more." : ".");
    describe_access(&rel, a1);

    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "ruleId", ngr_finding_kind_name(f->kind));
    if (ngr_rule_text(f->kind))
        ngr_jw_kint(w, "ruleIndex", (int)f->kind - 1);
    ngr_jw_kstr(w, "level", ngr_severity_name(f->severity));
    ngr_jw_key(w, "message");
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "text", msg.p);
    ngr_jw_obj_end(w);
    ngr_jw_key(w, "locations");
    ngr_jw_arr_begin(w);
    access_location(w, f, a0, base, -1, NULL);
    ngr_jw_arr_end(w);
    ngr_jw_key(w, "relatedLocations");
    ngr_jw_arr_begin(w);
    access_location(w, f, a1, base, 1, rel.p);
    other_pairs_json(w, f, base, a0, a1);
    ngr_jw_arr_end(w);
    ngr_jw_key(w, "stacks");
    ngr_jw_arr_begin(w);
    stack_json(w, &f->access[0], base);
    stack_json(w, &f->access[1], base);
    ngr_jw_arr_end(w);
    ngr_jw_key(w, "partialFingerprints");
    ngr_jw_obj_begin(w);
    /* v2: the id of a group (issue #13); v1 was the id of one site pair */
    ngr_jw_kstr(w, "nogilraceFindingId/v2", f->id);
    ngr_jw_obj_end(w);
    if (f->count >= 1)
        ngr_jw_kuint(w, "occurrenceCount", f->count);
    ngr_jw_key(w, "properties");
    ngr_jw_obj_begin(w);
    ngr_jw_kstr(w, "id", f->id);
    ngr_jw_kstr(w, "variable", f->variable);
    ngr_jw_kbool(w, "observed", f->observed);
    ngr_jw_kuint(w, "count", f->count);
    ngr_jw_kuint(w, "pairs", ngr_group_npairs(f));
    ngr_jw_kuint(w, "objects", f->objects);
    ngr_jw_kuint(w, "keys", f->keys);
    ngr_jw_key(w, "tests");
    ngr_jw_arr_begin(w);
    for (size_t i = 0; i < f->ntests; i++)
        ngr_jw_str(w, f->tests[i]);
    ngr_jw_arr_end(w);
    ngr_jw_kuint(w, "runs", f->runs ? f->runs : 1);
    ngr_jw_kbool(w, "in_baseline", f->in_baseline);
    ngr_jw_obj_end(w);
    ngr_jw_obj_end(w);
    free(msg.p);
    free(rel.p);
}

static void rules_json(struct ngr_jw *w)
{
    ngr_jw_key(w, "rules");
    ngr_jw_arr_begin(w);
    for (int k = NGR_FK_LOST_UPDATE; k <= NGR_FK_UNPROTECTED_WRITE; k++) {
        const struct ngr_rule_text *rt = ngr_rule_text((enum ngr_finding_kind)k);
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "id", ngr_finding_kind_name((enum ngr_finding_kind)k));
        ngr_jw_kstr(w, "name", rt->name);
        ngr_jw_key(w, "shortDescription");
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "text", rt->short_desc);
        ngr_jw_obj_end(w);
        ngr_jw_key(w, "fullDescription");
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "text", rt->full_desc);
        ngr_jw_obj_end(w);
        ngr_jw_key(w, "help");
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "text", rt->help);
        ngr_jw_kstr(w, "markdown", rt->help);
        ngr_jw_obj_end(w);
        ngr_jw_key(w, "defaultConfiguration");
        ngr_jw_obj_begin(w);
        ngr_jw_kstr(w, "level", "error");
        ngr_jw_obj_end(w);
        ngr_jw_key(w, "properties");
        ngr_jw_obj_begin(w);
        ngr_jw_key(w, "tags");
        ngr_jw_arr_begin(w);
        ngr_jw_str(w, "concurrency");
        ngr_jw_str(w, "race-condition");
        ngr_jw_str(w, "free-threading");
        ngr_jw_arr_end(w);
        ngr_jw_kstr(w, "precision", "high");
        ngr_jw_kstr(w, "problem.severity", "error");
        ngr_jw_obj_end(w);
        ngr_jw_obj_end(w);
    }
    ngr_jw_arr_end(w);
}

int ngr_output_sarif(FILE *f, const struct ngr_report *r, const struct ngr_output_opts *o)
{
    char *cwd = NULL;
    const char *base = o ? o->base_dir : NULL;
    if (!base)
        base = cwd = getcwd(NULL, 0);
    const char *version = o && o->tool_version ? o->tool_version : "unknown";

    struct ngr_jw w;
    ngr_jw_init(&w, f, 2);
    ngr_jw_obj_begin(&w);
    ngr_jw_kstr(&w, "$schema", SARIF_SCHEMA);
    ngr_jw_kstr(&w, "version", "2.1.0");
    ngr_jw_key(&w, "runs");
    ngr_jw_arr_begin(&w);
    ngr_jw_obj_begin(&w);

    ngr_jw_key(&w, "tool");
    ngr_jw_obj_begin(&w);
    ngr_jw_key(&w, "driver");
    ngr_jw_obj_begin(&w);
    ngr_jw_kstr(&w, "name", "nogilrace");
    ngr_jw_kstr(&w, "version", version);
    if (strcmp(version, "unknown") != 0)
        ngr_jw_kstr(&w, "semanticVersion", version);
    rules_json(&w);
    ngr_jw_obj_end(&w);
    ngr_jw_obj_end(&w);

    if (base && base[0] == '/') {
        struct sbuf u = {0};
        sb_puts(&u, "file://");
        sb_uri_path(&u, base);
        if (u.p[u.n - 1] != '/')
            sb_puts(&u, "/");
        ngr_jw_key(&w, "originalUriBaseIds");
        ngr_jw_obj_begin(&w);
        ngr_jw_key(&w, BASE_ID);
        ngr_jw_obj_begin(&w);
        ngr_jw_kstr(&w, "uri", u.p);
        ngr_jw_obj_end(&w);
        ngr_jw_obj_end(&w);
        free(u.p);
    }

    ngr_jw_key(&w, "invocations");
    ngr_jw_arr_begin(&w);
    ngr_jw_obj_begin(&w);
    ngr_jw_kbool(&w, "executionSuccessful", true);
    ngr_jw_key(&w, "toolExecutionNotifications");
    ngr_jw_arr_begin(&w);
    for (size_t i = 0; i < r->nwarnings; i++) {
        ngr_jw_obj_begin(&w);
        ngr_jw_kstr(&w, "level", "warning");
        ngr_jw_key(&w, "message");
        ngr_jw_obj_begin(&w);
        ngr_jw_kstr(&w, "text", r->warnings[i] ? r->warnings[i] : "");
        ngr_jw_obj_end(&w);
        ngr_jw_obj_end(&w);
    }
    ngr_jw_arr_end(&w);
    ngr_jw_obj_end(&w);
    ngr_jw_arr_end(&w);

    ngr_jw_key(&w, "results");
    ngr_jw_arr_begin(&w);
    for (size_t i = 0; i < r->nfindings; i++)
        result_json(&w, &r->findings[i], base);
    ngr_jw_arr_end(&w);

    ngr_jw_key(&w, "properties");
    ngr_jw_obj_begin(&w);
    ngr_output_run_facts(&w, r);
    ngr_jw_kuint(&w, "suppressed", r->suppressed);
    ngr_jw_obj_end(&w);

    ngr_jw_obj_end(&w);
    ngr_jw_arr_end(&w);
    ngr_jw_obj_end(&w);
    ngr_jw_newline(&w);
    free(cwd);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
