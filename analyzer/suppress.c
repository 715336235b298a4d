/* suppress.c — see suppress.h. */
#include "suppress.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "groups.h"
#include "readfile.h"
#include "util.h"

enum rule_type { R_RACE, R_VARIABLE, R_FILE, R_FUNCTION };
static const char *const type_names[] = {"race", "variable", "file", "function"};

struct rule {
    enum rule_type type;
    char *glob;
    bool has_slash; /* file: a glob without '/' also matches the file's base name */
};

/* A source file read for `# nogilrace: ignore`: its bytes and where each line starts. */
struct src_file {
    char *path;
    char *text;        /* NULL when it could not be read */
    size_t len;
    size_t *line_off;  /* line_off[i] = offset of line i + 1 */
    size_t nlines;
};

struct ngr_suppressions {
    struct rule *rules;
    size_t nrules;
    bool inline_comments;
    struct src_file *files;
    size_t nfiles, files_cap;
};

#define MAX_SOURCE_BYTES (64u << 20)       /* larger "source files" are not read */
#define MAX_SUPPRESSIONS_BYTES (4u << 20)  /* about 190,000 rules of one finding id each */

/* ---- the rules file -------------------------------------------------------------------------- */

static struct ngr_suppressions *new_set(void)
{
    struct ngr_suppressions *s = ngr_xcalloc(1, sizeof *s);
    s->inline_comments = true;
    return s;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

struct ngr_suppressions *ngr_suppress_parse(const char *name, const char *text, size_t len, char *err,
                                            size_t errlen)
{
    struct ngr_suppressions *s = new_set();
    size_t cap = 0, lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        lineno++;
        const char *a = p, *b = eol;
        p = nl ? nl + 1 : end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a == b || *a == '#')
            continue;
        if (memchr(a, '\0', (size_t)(b - a))) {
            snprintf(err, errlen, "%s:%zu: NUL byte in a rule", name, lineno);
            goto bad;
        }
        const char *colon = memchr(a, ':', (size_t)(b - a));
        if (!colon) {
            snprintf(err, errlen, "%s:%zu: expected TYPE:GLOB (race:, variable:, file:, function:), got '%.*s'",
                     name, lineno, (int)(b - a > 60 ? 60 : b - a), a);
            goto bad;
        }
        const char *te = colon;
        while (te > a && is_space(te[-1]))
            te--;
        int type = -1;
        for (int i = 0; i < 4; i++)
            if (strlen(type_names[i]) == (size_t)(te - a) && memcmp(type_names[i], a, (size_t)(te - a)) == 0)
                type = i;
        if (type < 0) {
            snprintf(err, errlen, "%s:%zu: unknown rule type '%.*s' (race, variable, file, function)", name,
                     lineno, (int)(te - a > 40 ? 40 : te - a), a);
            goto bad;
        }
        const char *g = colon + 1;
        while (g < b && is_space(*g))
            g++;
        if (g == b) {
            snprintf(err, errlen, "%s:%zu: empty pattern after '%s:'", name, lineno, type_names[type]);
            goto bad;
        }
        NGR_GROW(s->rules, cap, s->nrules + 1);
        struct rule *r = &s->rules[s->nrules++];
        r->type = (enum rule_type)type;
        r->glob = ngr_xstrndup(g, (size_t)(b - g));
        r->has_slash = strchr(r->glob, '/') != NULL;
    }
    return s;
bad:
    ngr_suppress_free(s);
    return NULL;
}

struct ngr_suppressions *ngr_suppress_load(const char *path, char *err, size_t errlen)
{
    if (!path)
        return new_set();
    /* the source files' reader, with its limits: a FIFO, /dev/zero or /dev/urandom given here
     * is refused at once instead of hanging or filling memory */
    char *buf, why[256];
    size_t len;
    if (ngr_read_small_file(path, MAX_SUPPRESSIONS_BYTES, &buf, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: cannot read the suppressions file: %s", path, why);
        return NULL;
    }
    struct ngr_suppressions *s = ngr_suppress_parse(path, buf, len, err, errlen);
    free(buf);
    return s;
}

void ngr_suppress_set_inline(struct ngr_suppressions *s, bool on) { s->inline_comments = on; }

/* Each rule names a race inside CPython's own modules that cannot give a wrong result: a
 * memoisation cache whose lost or duplicated entry only costs computing an equal value again.
 * Real stdlib races (linecache gh-133253, warnings gh-128384) are reported, on purpose. */
static const char default_rules[] =
    /* re/__init__.py (3.13) _compile(): two dicts of compiled patterns, read and written with no
     * lock ("Another thread could have modified the cache"). */
    "variable:re._cache\n"
    "variable:re._cache2\n"
    /* encodings/__init__.py search_function(): _cache.get(encoding), then _cache[encoding] =
     * the CodecInfo built from the codec module, the same for every thread. */
    "variable:encodings._cache\n"
    /* string/__init__.py (3.14+) Template._compile_pattern(): the class's pattern is compiled
     * at first use and stored back on the class (`if cls.flags is None: cls.flags = ...`,
     * `cls.pattern = re.compile(...)`), the same values in every thread. */
    "variable:string.Template.flags\n"
    "variable:string.Template.pattern\n"
    /* logging/__init__.py Logger.isEnabledFor(): `self._cache[level]` looked up outside
     * logging's lock, filled under it on a miss with the level's answer, the same in every
     * thread (a shared logger's memo dict, named where Logger.__init__ stores it). */
    "variable:logging.*Logger()._cache\n"
    /* importlib._bootstrap _has_deadlocked() walks the lists of the locks other threads are
     * blocked on, with no lock, on purpose (deadlock detection may see a list being changed;
     * each thread changes only its own). */
    "variable:_frozen_importlib._BlockingOnManager().blocked_on\n";

struct ngr_suppressions *ngr_suppress_defaults(void)
{
    char err[256];
    struct ngr_suppressions *s = ngr_suppress_parse("<default suppressions>", default_rules,
                                                    sizeof default_rules - 1, err, sizeof err);
    if (!s) { /* the built-in text is ours: a parse error is a bug, not an input error */
        fprintf(stderr, "nogilrace: %s\n", err);
        abort();
    }
    s->inline_comments = false;
    return s;
}

void ngr_suppress_free(struct ngr_suppressions *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nrules; i++)
        free(s->rules[i].glob);
    free(s->rules);
    for (size_t i = 0; i < s->nfiles; i++) {
        free(s->files[i].path);
        free(s->files[i].text);
        free(s->files[i].line_off);
    }
    free(s->files);
    free(s);
}

/* ---- matching rules -------------------------------------------------------------------------- */

static bool glob(const char *pattern, const char *s) { return s && fnmatch(pattern, s, 0) == 0; }

static bool match_file(const struct rule *r, const char *file)
{
    if (!file)
        return false;
    if (glob(r->glob, file))
        return true;
    if (!r->has_slash) {
        const char *base = strrchr(file, '/');
        return base && glob(r->glob, base + 1);
    }
    return false;
}

/* A rule against one site pair p of finding f.  What is the group's (its id, kind, variable name)
 * matches every pair; what is the pair's (its own id, the variable with the key it was seen on,
 * the frames of its two stacks) matches that pair. */
static bool rule_matches(const struct rule *r, const struct ngr_finding *f, const struct ngr_site_pair *p)
{
    switch (r->type) {
    case R_RACE:
        return glob(r->glob, f->id) || glob(r->glob, ngr_finding_kind_name(f->kind)) || glob(r->glob, p->id);
    case R_VARIABLE:
        return glob(r->glob, p->variable) || glob(r->glob, f->var_name);
    case R_FILE:
    case R_FUNCTION:
        for (int a = 0; a < 2; a++)
            for (size_t i = 0; i < p->access[a].depth; i++) {
                const struct ngr_frame *fr = &p->access[a].stack[i];
                if (r->type == R_FILE ? match_file(r, fr->file) : glob(r->glob, fr->function))
                    return true;
            }
        return false;
    }
    return false;
}

/* ---- `# nogilrace: ignore` ------------------------------------------------------------------- */

static struct src_file *source(struct ngr_suppressions *s, const char *path)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, path) == 0)
            return &s->files[i];
    NGR_GROW(s->files, s->files_cap, s->nfiles + 1);
    struct src_file *sf = &s->files[s->nfiles++];
    memset(sf, 0, sizeof *sf);
    sf->path = ngr_xstrdup(path);
    /* Paths come from the trace: readfile.h refuses FIFOs, devices, directories and huge files.
     * A file that cannot be read is absent: nothing to honour, not an error. */
    char why[256];
    if (ngr_read_small_file(path, MAX_SOURCE_BYTES, &sf->text, &sf->len, why, sizeof why) != 0)
        return sf;
    size_t lcap = 0;
    NGR_GROW(sf->line_off, lcap, 1);
    sf->line_off[sf->nlines++] = 0;
    for (size_t i = 0; i < sf->len; i++)
        if (sf->text[i] == '\n' && i + 1 < sf->len) {
            NGR_GROW(sf->line_off, lcap, sf->nlines + 1);
            sf->line_off[sf->nlines++] = i + 1;
        }
    return sf;
}

/* Does [p, e) hold "# nogilrace: ignore" (spaces optional around ':'), and if it names kinds in
 * brackets, is kind one of them? */
static bool line_ignores(const char *p, const char *e, const char *kind)
{
    for (const char *h = p; h < e; h++) {
        if (*h != '#')
            continue;
        const char *q = h + 1;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t)(e - q) < 10 || memcmp(q, "nogilrace", 9) != 0)
            continue;
        q += 9;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= e || *q != ':')
            continue;
        q++;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t)(e - q) < 6 || memcmp(q, "ignore", 6) != 0)
            continue;
        q += 6;
        if (q == e || *q == ' ' || *q == '\t' || *q == '\r' || *q == '#' || *q == ',')
            return true;
        if (*q != '[')
            continue; /* "ignored", "ignore-me": not ours */
        const char *close = memchr(q, ']', (size_t)(e - q));
        if (!close)
            continue;
        /* comma-separated kinds, spaces allowed */
        const char *k = q + 1;
        while (k < close) {
            while (k < close && (*k == ' ' || *k == ','))
                k++;
            const char *ke = k;
            while (ke < close && *ke != ',' && *ke != ' ')
                ke++;
            if (ke > k && strlen(kind) == (size_t)(ke - k) && memcmp(k, kind, (size_t)(ke - k)) == 0)
                return true;
            k = ke;
        }
    }
    return false;
}

/* The source line of an access: the innermost frame with a real file and line. */
static bool access_ignored(struct ngr_suppressions *s, const struct ngr_access_info *a, const char *kind)
{
    for (size_t i = 0; i < a->depth; i++) {
        const struct ngr_frame *fr = &a->stack[i];
        if (!fr->file || !fr->file[0] || fr->file[0] == '<' || fr->line == 0)
            continue;
        struct src_file *sf = source(s, fr->file);
        if (!sf->text || fr->line > sf->nlines)
            return false;
        size_t off = sf->line_off[fr->line - 1];
        const char *p = sf->text + off;
        const char *e = memchr(p, '\n', sf->len - off);
        return line_ignores(p, e ? e : sf->text + sf->len, kind);
    }
    return false;
}

/* ---- the verdict ----------------------------------------------------------------------------- */

/* Is pair p of f suppressed, by a rule or a source comment on either of its access lines? */
static bool pair_suppressed(struct ngr_suppressions *s, const struct ngr_finding *f, const struct ngr_site_pair *p)
{
    for (size_t i = 0; i < s->nrules; i++)
        if (rule_matches(&s->rules[i], f, p))
            return true;
    if (s->inline_comments) {
        const char *kind = ngr_finding_kind_name(f->kind);
        if (access_ignored(s, &p->access[0], kind) || access_ignored(s, &p->access[1], kind))
            return true;
    }
    return false;
}

bool ngr_suppress_match(struct ngr_suppressions *s, const struct ngr_finding *f)
{
    for (size_t i = 0; i < ngr_group_npairs(f); i++) {
        struct ngr_site_pair tmp;
        if (!pair_suppressed(s, f, ngr_group_pair(f, i, &tmp)))
            return false;
    }
    return true;
}

/* Drops f's suppressed pairs; returns how many went (all of them: f is suppressed). */
static size_t drop_pairs(struct ngr_suppressions *s, struct ngr_finding *f)
{
    if (!f->npairs)
        return ngr_suppress_match(s, f) ? 1 : 0;
    size_t k = 0, n = f->npairs;
    for (size_t i = 0; i < n; i++) {
        if (pair_suppressed(s, f, &f->pairs[i]))
            ngr_site_pair_free(&f->pairs[i]);
        else
            f->pairs[k++] = f->pairs[i];
    }
    f->npairs = k;
    return n - k;
}

size_t ngr_suppress_apply(struct ngr_suppressions *s, struct ngr_report *r)
{
    size_t k = 0, dropped = 0;
    bool changed = false;
    for (size_t i = 0; i < r->nfindings; i++) {
        struct ngr_finding *f = &r->findings[i];
        size_t before = ngr_group_npairs(f), gone = drop_pairs(s, f);
        if (gone == before) {
            ngr_finding_free(f);
            dropped++;
            continue;
        }
        if (gone) { /* the rest stays one finding: its representative and counts from what is left */
            r->suppressed_pairs += gone;
            ngr_group_settle(f);
            changed = true;
        }
        r->findings[k++] = *f;
    }
    r->nfindings = k;
    r->suppressed += dropped;
    if (changed) /* a finding whose observed pairs went is potential now: findings.h's order again */
        ngr_report_sort(r);
    return dropped;
}
