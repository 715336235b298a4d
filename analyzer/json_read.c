/* json_read.c — see json_read.h.  A recursive-descent parser over the buffer; recursion is bounded
 * by NGR_JSON_MAX_DEPTH, so hostile nesting fails with a message instead of the stack. */
#include "json_read.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct jp {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    bool failed;
};

static int fail_at(struct jp *j, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct jp *j, const char *at, const char *fmt, ...)
{
    if (j->failed)
        return -1;
    j->failed = true;
    int n = snprintf(j->err, j->errlen, "byte %zu: ", (size_t)(at - j->start));
    if (n >= 0 && (size_t)n < j->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(j->err + n, j->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* What is at p, for messages: a printable character quoted, else its byte value. */
static const char *what_at(const struct jp *j, char *buf, size_t cap)
{
    if (j->p >= j->end)
        return "the end of the input";
    unsigned char c = (unsigned char)*j->p;
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static int parse_value(struct jp *j, struct ngr_jv *v, unsigned depth);

/* ---- strings ---------------------------------------------------------------------------------- */

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp == 0 || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
        cp = 0xfffd;
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | cp >> 18);
        out[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static bool hex4v(const char *at, const char *end, uint32_t *out)
{
    if (end - at < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = at[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return false;
    }
    *out = v;
    return true;
}

/* At the opening quote; the decoded string (at most as long as its source) in *s, *len. */
static int parse_string(struct jp *j, char **s, size_t *len)
{
    const char *q = ++j->p;
    const char *close = q;
    while (close < j->end && *close != '"') /* an upper bound for the output size */
        close += *close == '\\' && close + 1 < j->end ? 2 : 1;
    if (close >= j->end)
        return fail_at(j, q - 1, "string not terminated");
    char *out = ngr_xmalloc((size_t)(close - q) + 4);
    size_t n = 0;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) {
            free(out);
            return fail_at(j, j->p, "control character 0x%02x inside a string", c);
        }
        if (c != '\\') {
            out[n++] = (char)c;
            j->p++;
            continue;
        }
        const char *esc = j->p++;
        char e = j->p < j->end ? *j->p++ : 0;
        uint32_t cp, lo;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u':
            if (!hex4v(j->p, j->end, &cp)) {
                free(out);
                return fail_at(j, esc, "\\u needs four hex digits");
            }
            j->p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' &&
                hex4v(j->p + 2, j->end, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                j->p += 6;
            } /* else a lone surrogate: U+FFFD, and what follows is read on its own */
            put_utf8(out, &n, cp);
            break;
        default:
            free(out);
            return fail_at(j, esc, "unknown escape in a string");
        }
    }
    j->p++; /* the closing quote */
    out[n] = '\0';
    *s = out;
    *len = n;
    return 0;
}

/* ---- numbers ----------------------------------------------------------------------------------- */

static int parse_number(struct jp *j, struct ngr_jv *v)
{
    const char *s = j->p;
    const char *p = s;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || *p < '0' || *p > '9')
        return fail_at(j, s, "expected digits after '-'");
    if (*p == '0' && p + 1 < j->end && p[1] >= '0' && p[1] <= '9')
        return fail_at(j, s, "a number may not start with 0");
    while (p < j->end && *p >= '0' && *p <= '9')
        p++;
    bool integral = true;
    if (p < j->end && *p == '.') {
        integral = false;
        p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return fail_at(j, p, "digits expected after '.'");
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return fail_at(j, p, "digits expected in the exponent");
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    char buf[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf)
        return fail_at(j, s, "number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    v->type = NGR_JV_NUM;
    v->num = strtod(buf, NULL);
    if (integral) {
        errno = 0;
        if (buf[0] == '-') {
            long long x = strtoll(buf, NULL, 10);
            v->is_int = errno == 0;
            v->i = x;
        } else {
            unsigned long long x = strtoull(buf, NULL, 10);
            v->is_uint = errno == 0;
            v->u = x;
            v->is_int = v->is_uint && x <= INT64_MAX;
            v->i = (int64_t)x;
        }
    }
    j->p = p;
    return 0;
}

/* ---- arrays and objects -------------------------------------------------------------------------- */

static int parse_array(struct jp *j, struct ngr_jv *v, unsigned depth)
{
    size_t cap = 0;
    v->type = NGR_JV_ARR;
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        NGR_GROW(v->items, cap, v->len + 1);
        memset(&v->items[v->len], 0, sizeof *v->items);
        if (parse_value(j, &v->items[v->len++], depth + 1))
            return -1;
        skip_ws(j);
        char buf[16];
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return 0;
        }
        return fail_at(j, j->p, "expected ',' or ']' in an array, found %s", what_at(j, buf, sizeof buf));
    }
}

static int parse_object(struct jp *j, struct ngr_jv *v, unsigned depth)
{
    size_t cap = 0;
    v->type = NGR_JV_OBJ;
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        char buf[16];
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return fail_at(j, j->p, "expected a member name in quotes, found %s", what_at(j, buf, sizeof buf));
        NGR_GROW(v->members, cap, v->len + 1);
        struct ngr_jmember *m = &v->members[v->len++];
        memset(m, 0, sizeof *m);
        size_t klen;
        if (parse_string(j, &m->key, &klen))
            return -1;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return fail_at(j, j->p, "expected ':' after a member name, found %s", what_at(j, buf, sizeof buf));
        j->p++;
        if (parse_value(j, &m->v, depth + 1))
            return -1;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 0;
        }
        return fail_at(j, j->p, "expected ',' or '}' in an object, found %s", what_at(j, buf, sizeof buf));
    }
}

static bool word(struct jp *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return false;
    j->p += n;
    return true;
}

static int parse_value(struct jp *j, struct ngr_jv *v, unsigned depth)
{
    char buf[16];
    skip_ws(j);
    v->off = (size_t)(j->p - j->start);
    if (depth > NGR_JSON_MAX_DEPTH)
        return fail_at(j, j->p, "nested deeper than %d levels", NGR_JSON_MAX_DEPTH);
    if (j->p >= j->end)
        return fail_at(j, j->p, "expected a value, found the end of the input");
    switch (*j->p) {
    case '{': return parse_object(j, v, depth);
    case '[': return parse_array(j, v, depth);
    case '"':
        v->type = NGR_JV_STR;
        return parse_string(j, &v->str, &v->len);
    case 't':
    case 'f':
        v->type = NGR_JV_BOOL;
        v->b = *j->p == 't';
        if (word(j, v->b ? "true" : "false"))
            return 0;
        break;
    case 'n':
        v->type = NGR_JV_NULL;
        if (word(j, "null"))
            return 0;
        break;
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return parse_number(j, v);
        break;
    }
    return fail_at(j, j->p, "expected a value, found %s", what_at(j, buf, sizeof buf));
}

int ngr_json_parse(const char *buf, size_t len, struct ngr_jv *out, char *err, size_t errlen)
{
    struct jp j = {buf, buf + len, buf, err, errlen, false};
    memset(out, 0, sizeof *out);
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) /* a byte order mark some editors add */
        j.p += 3;
    if (parse_value(&j, out, 0) == 0) {
        skip_ws(&j);
        if (j.p == j.end)
            return 0;
        char b[16];
        fail_at(&j, j.p, "expected the end of the document, found %s", what_at(&j, b, sizeof b));
    }
    ngr_jv_free(out);
    return -1;
}

void ngr_jv_free(struct ngr_jv *v)
{
    if (v->type == NGR_JV_STR) {
        free(v->str);
    } else if (v->type == NGR_JV_ARR) {
        for (size_t i = 0; i < v->len; i++)
            ngr_jv_free(&v->items[i]);
        free(v->items);
    } else if (v->type == NGR_JV_OBJ) {
        for (size_t i = 0; i < v->len; i++) {
            free(v->members[i].key);
            ngr_jv_free(&v->members[i].v);
        }
        free(v->members);
    }
    memset(v, 0, sizeof *v);
}

const struct ngr_jv *ngr_jv_get(const struct ngr_jv *o, const char *key)
{
    if (!o || o->type != NGR_JV_OBJ)
        return NULL;
    for (size_t i = o->len; i-- > 0;)
        if (o->members[i].key && !strcmp(o->members[i].key, key))
            return &o->members[i].v;
    return NULL;
}

const char *ngr_jv_type_name(enum ngr_jv_type t)
{
    switch (t) {
    case NGR_JV_NULL: return "null";
    case NGR_JV_BOOL: return "a boolean";
    case NGR_JV_NUM: return "a number";
    case NGR_JV_STR: return "a string";
    case NGR_JV_ARR: return "an array";
    case NGR_JV_OBJ: return "an object";
    }
    return "?";
}
