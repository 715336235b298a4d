/* test_output_helpers.h — for the output and suppression unit tests: a small strict JSON parser
 * (so tests read back what the writers wrote, field by field) and a builder of heap-allocated
 * findings (freed by ngr_report_free, as the analysis allocates them). */
#ifndef NGR_TEST_OUTPUT_HELPERS_H
#define NGR_TEST_OUTPUT_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "findings.h"
#include "groups.h"
#include "util.h"

/* ---- strict JSON parser ---------------------------------------------------------------------- */

enum mj_type { MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ };

struct mj {
    enum mj_type t;
    bool b;
    double num;
    char *s;          /* MJ_STR, decoded UTF-8 */
    size_t n;         /* MJ_ARR / MJ_OBJ members */
    struct mj *items;
    char **keys;      /* MJ_OBJ */
};

struct mj_p {
    const char *p, *e;
    const char *err;
};

static __attribute__((unused)) void mj_ws(struct mj_p *p)
{
    while (p->p < p->e && (*p->p == ' ' || *p->p == '\n' || *p->p == '\t' || *p->p == '\r'))
        p->p++;
}

static __attribute__((unused)) bool mj_fail(struct mj_p *p, const char *why)
{
    if (!p->err)
        p->err = why;
    return false;
}

static __attribute__((unused)) void mj_utf8(char **out, size_t *n, uint32_t cp)
{
    char *o = *out + *n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        *n += 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        *n += 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        *n += 3;
    } else {
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        *n += 4;
    }
}

static __attribute__((unused)) bool mj_hex4(struct mj_p *p, uint32_t *v)
{
    if (p->e - p->p < 4)
        return mj_fail(p, "short \\u escape");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *p->p++;
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (uint32_t)(c - 'A' + 10);
        else return mj_fail(p, "bad hex digit");
    }
    return true;
}

static __attribute__((unused)) bool mj_string(struct mj_p *p, char **out)
{
    if (p->p >= p->e || *p->p != '"')
        return mj_fail(p, "expected string");
    p->p++;
    size_t cap = (size_t)(p->e - p->p) * 2 + 8, n = 0;
    char *s = malloc(cap);
    while (p->p < p->e && *p->p != '"') {
        unsigned char c = (unsigned char)*p->p++;
        if (c < 0x20) {
            free(s);
            return mj_fail(p, "raw control character in string");
        }
        if (c != '\\') {
            s[n++] = (char)c;
            continue;
        }
        if (p->p >= p->e) {
            free(s);
            return mj_fail(p, "escape at end");
        }
        char e = *p->p++;
        uint32_t cp;
        switch (e) {
        case '"': s[n++] = '"'; break;
        case '\\': s[n++] = '\\'; break;
        case '/': s[n++] = '/'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u':
            if (!mj_hex4(p, &cp)) {
                free(s);
                return false;
            }
            if (cp >= 0xd800 && cp <= 0xdbff && p->e - p->p >= 6 && p->p[0] == '\\' && p->p[1] == 'u') {
                uint32_t lo;
                p->p += 2;
                if (!mj_hex4(p, &lo)) {
                    free(s);
                    return false;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            mj_utf8(&s, &n, cp);
            break;
        default:
            free(s);
            return mj_fail(p, "bad escape");
        }
    }
    if (p->p >= p->e) {
        free(s);
        return mj_fail(p, "unterminated string");
    }
    p->p++;
    s[n] = 0;
    *out = s;
    return true;
}

static __attribute__((unused)) bool mj_value(struct mj_p *p, struct mj *v, int depth);

static __attribute__((unused)) bool mj_members(struct mj_p *p, struct mj *v, bool obj, int depth)
{
    char close = obj ? '}' : ']';
    p->p++;
    mj_ws(p);
    if (p->p < p->e && *p->p == close) {
        p->p++;
        return true;
    }
    for (;;) {
        v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
        memset(&v->items[v->n], 0, sizeof *v->items);
        if (obj) {
            v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
            v->keys[v->n] = NULL;
            mj_ws(p);
            if (!mj_string(p, &v->keys[v->n]))
                return false;
            mj_ws(p);
            if (p->p >= p->e || *p->p != ':')
                return mj_fail(p, "expected ':'");
            p->p++;
        }
        v->n++;
        if (!mj_value(p, &v->items[v->n - 1], depth + 1))
            return false;
        mj_ws(p);
        if (p->p < p->e && *p->p == ',') {
            p->p++;
            continue;
        }
        if (p->p < p->e && *p->p == close) {
            p->p++;
            return true;
        }
        return mj_fail(p, "expected ',' or the end of the container");
    }
}

static __attribute__((unused)) bool mj_value(struct mj_p *p, struct mj *v, int depth)
{
    if (depth > 100)
        return mj_fail(p, "too deep");
    mj_ws(p);
    if (p->p >= p->e)
        return mj_fail(p, "unexpected end");
    char c = *p->p;
    if (c == '{') {
        v->t = MJ_OBJ;
        return mj_members(p, v, true, depth);
    }
    if (c == '[') {
        v->t = MJ_ARR;
        return mj_members(p, v, false, depth);
    }
    if (c == '"') {
        v->t = MJ_STR;
        return mj_string(p, &v->s);
    }
    if (p->e - p->p >= 4 && !memcmp(p->p, "null", 4)) {
        v->t = MJ_NULL;
        p->p += 4;
        return true;
    }
    if (p->e - p->p >= 4 && !memcmp(p->p, "true", 4)) {
        v->t = MJ_BOOL;
        v->b = true;
        p->p += 4;
        return true;
    }
    if (p->e - p->p >= 5 && !memcmp(p->p, "false", 5)) {
        v->t = MJ_BOOL;
        p->p += 5;
        return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        v->t = MJ_NUM;
        v->num = strtod(p->p, &end);
        if (end == p->p)
            return mj_fail(p, "bad number");
        p->p = end;
        return true;
    }
    return mj_fail(p, "unexpected character");
}

static __attribute__((unused)) void mj_free_members(struct mj *v)
{
    for (size_t i = 0; i < v->n; i++) {
        mj_free_members(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
}

/* Parses one JSON document (whitespace around it allowed, nothing else); NULL + *err on error. */
static __attribute__((unused)) struct mj *mj_parse(const char *text, size_t len, const char **err)
{
    struct mj_p p = {text, text + len, NULL};
    struct mj *v = calloc(1, sizeof *v);
    bool ok = mj_value(&p, v, 0);
    mj_ws(&p);
    if (ok && p.p != p.e)
        ok = mj_fail(&p, "trailing content");
    if (!ok) {
        *err = p.err;
        mj_free_members(v);
        free(v);
        return NULL;
    }
    return v;
}

static __attribute__((unused)) void mj_free(struct mj *v)
{
    if (v) {
        mj_free_members(v);
        free(v);
    }
}

/* Member of an object by key, or item of an array by decimal index; a dotted path walks. */
static __attribute__((unused)) const struct mj *mj_at(const struct mj *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, ".")) {
        const struct mj *next = NULL;
        if (v->t == MJ_OBJ) {
            for (size_t i = 0; i < v->n; i++)
                if (!strcmp(v->keys[i], tok))
                    next = &v->items[i];
        } else if (v->t == MJ_ARR) {
            char *end;
            unsigned long ix = strtoul(tok, &end, 10);
            if (!*end && ix < v->n)
                next = &v->items[ix];
        }
        v = next;
    }
    return v;
}

static __attribute__((unused)) const char *mj_str(const struct mj *v, const char *path)
{
    const struct mj *x = mj_at(v, path);
    return x && x->t == MJ_STR ? x->s : NULL;
}

static __attribute__((unused)) double mj_num(const struct mj *v, const char *path)
{
    const struct mj *x = mj_at(v, path);
    return x && x->t == MJ_NUM ? x->num : -1;
}

static __attribute__((unused)) int mj_bool(const struct mj *v, const char *path)
{
    const struct mj *x = mj_at(v, path);
    return x && x->t == MJ_BOOL ? x->b : -1;
}

static __attribute__((unused)) long mj_len(const struct mj *v, const char *path)
{
    const struct mj *x = mj_at(v, path);
    return x && (x->t == MJ_ARR || x->t == MJ_OBJ) ? (long)x->n : -1;
}

/* ---- findings on the heap -------------------------------------------------------------------- */

struct fx_frame {
    const char *file;
    unsigned line;
    const char *function;
};

static __attribute__((unused)) void fx_access(struct ngr_finding *f, int ix, const char *op, unsigned thread, const char *tname,
                      const char *const *locks, size_t nlocks, const struct fx_frame *frames, size_t depth)
{
    struct ngr_access_info *a = &f->access[ix];
    a->op = ngr_xstrdup(op);
    a->pid = 4242;
    a->thread = thread;
    a->thread_name = tname ? ngr_xstrdup(tname) : NULL;
    a->nlocks = nlocks;
    a->locks = nlocks ? ngr_xcalloc(nlocks, sizeof *a->locks) : NULL;
    for (size_t i = 0; i < nlocks; i++)
        a->locks[i] = ngr_xstrdup(locks[i]);
    a->depth = depth;
    a->stack = depth ? ngr_xcalloc(depth, sizeof *a->stack) : NULL;
    for (size_t i = 0; i < depth; i++) {
        a->stack[i].file = ngr_xstrdup(frames[i].file);
        a->stack[i].line = frames[i].line;
        a->stack[i].function = ngr_xstrdup(frames[i].function);
    }
}

/* Appends a finding; both accesses get one frame (file:line in function) unless changed after. */
static __attribute__((unused)) struct ngr_finding *fx_add(struct ngr_report *r, const char *id, enum ngr_finding_kind kind, bool observed,
                                  const char *var_name, const char *key, uint64_t count)
{
    r->findings = ngr_xrealloc(r->findings, (r->nfindings + 1) * sizeof *r->findings);
    struct ngr_finding *f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    f->kind = kind;
    f->observed = observed;
    f->severity = observed ? NGR_SEV_ERROR : NGR_SEV_WARNING;
    f->var_name = ngr_xstrdup(var_name);
    f->key = key ? ngr_xstrdup(key) : NULL;
    f->variable = key ? ngr_xasprintf("%s[%s]", var_name, key) : ngr_xstrdup(var_name);
    f->var_kind = ngr_xstrdup(key ? "container" : "global");
    f->count = count;
    f->message = ngr_xasprintf("%s on %s", ngr_finding_kind_name(kind), f->variable);
    f->hint = ngr_xstrdup("hold one lock around both");
    return f;
}

/* Appends a site pair to f (a group, findings.h): a read at file:l0 in f0 by thread 2 against a
 * write at file:l1 in f1 by thread 3, seen count times on variable (with key, or NULL).  Call
 * ngr_group_settle(f) after the last one to make pairs[0] the finding's representative. */
static __attribute__((unused)) struct ngr_site_pair *fx_add_pair(struct ngr_finding *f, const char *id, bool observed,
                                                                 uint64_t count, const char *key, const char *file,
                                                                 unsigned l0, const char *f0, unsigned l1, const char *f1)
{
    f->pairs = ngr_xrealloc(f->pairs, (f->npairs + 1) * sizeof *f->pairs);
    struct ngr_site_pair *p = &f->pairs[f->npairs++];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->observed = observed;
    p->count = count;
    p->key = key ? ngr_xstrdup(key) : NULL;
    p->variable = key ? ngr_xasprintf("%s[%s]", f->var_name, key) : ngr_xstrdup(f->var_name);
    p->message = ngr_xasprintf("%s on %s at %u/%u", ngr_finding_kind_name(f->kind), p->variable, l0, l1);
    /* fx_access fills a finding's accesses: borrow a scratch finding for the pair's */
    struct ngr_finding tmp;
    memset(&tmp, 0, sizeof tmp);
    struct fx_frame a[] = {{file, l0, f0}}, b[] = {{file, l1, f1}};
    fx_access(&tmp, 0, "read", 2, "worker-0", NULL, 0, a, 1);
    fx_access(&tmp, 1, "write", 3, "worker-1", NULL, 0, b, 1);
    p->access[0] = tmp.access[0];
    p->access[1] = tmp.access[1];
    return p;
}

#endif
