/* json_writer.c — see json_writer.h. */
#include "json_writer.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "escape.h"

/* ---- escaping -------------------------------------------------------------------------------- */

void ngr_json_escape(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    putc('"', f);
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc((int)c, f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default: fprintf(f, "\\u%04x", c);
            }
            i++;
        } else if (c < 0x80) {
            putc((int)c, f);
            i++;
        } else {
            uint32_t cp;
            size_t l = ngr_utf8_seq(s + i, len - i, &cp);
            if (l) {
                fwrite(s + i, 1, l, f);
                i += l;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    putc('"', f);
}

/* ---- structure ------------------------------------------------------------------------------- */

void ngr_jw_init(struct ngr_jw *w, FILE *f, unsigned indent)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->indent = indent;
}

static void newline_indent(struct ngr_jw *w)
{
    if (!w->indent)
        return;
    putc('\n', w->f);
    for (unsigned i = 0; i < w->depth * w->indent; i++)
        putc(' ', w->f);
}

/* Separator before a value or a key: nothing after a key, else a comma when the container
 * already has a member, then the indentation. */
static void before_item(struct ngr_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (w->nonempty[w->depth])
        putc(',', w->f);
    w->nonempty[w->depth] = true;
    newline_indent(w);
}

static void open_container(struct ngr_jw *w, int ch)
{
    before_item(w);
    putc(ch, w->f);
    if (w->depth + 1 < NGR_JW_MAX_DEPTH)
        w->depth++;
    w->nonempty[w->depth] = false;
}

static void close_container(struct ngr_jw *w, int ch)
{
    bool had = w->nonempty[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had)
        newline_indent(w);
    putc(ch, w->f);
}

void ngr_jw_obj_begin(struct ngr_jw *w) { open_container(w, '{'); }
void ngr_jw_obj_end(struct ngr_jw *w) { close_container(w, '}'); }
void ngr_jw_arr_begin(struct ngr_jw *w) { open_container(w, '['); }
void ngr_jw_arr_end(struct ngr_jw *w) { close_container(w, ']'); }

void ngr_jw_key(struct ngr_jw *w, const char *key)
{
    before_item(w);
    ngr_json_escape(w->f, key, strlen(key));
    fputs(w->indent ? ": " : ":", w->f);
    w->after_key = true;
}

/* ---- values ---------------------------------------------------------------------------------- */

void ngr_jw_strn(struct ngr_jw *w, const char *s, size_t len)
{
    before_item(w);
    ngr_json_escape(w->f, s, len);
}

void ngr_jw_str(struct ngr_jw *w, const char *s)
{
    if (!s) {
        ngr_jw_null(w);
        return;
    }
    ngr_jw_strn(w, s, strlen(s));
}

void ngr_jw_int(struct ngr_jw *w, int64_t v)
{
    before_item(w);
    fprintf(w->f, "%" PRId64, v);
}

void ngr_jw_uint(struct ngr_jw *w, uint64_t v)
{
    before_item(w);
    fprintf(w->f, "%" PRIu64, v);
}

void ngr_jw_double(struct ngr_jw *w, double v)
{
    before_item(w);
    if (isfinite(v))
        fprintf(w->f, "%.17g", v);
    else
        fputs("null", w->f);
}

void ngr_jw_bool(struct ngr_jw *w, bool v)
{
    before_item(w);
    fputs(v ? "true" : "false", w->f);
}

void ngr_jw_null(struct ngr_jw *w)
{
    before_item(w);
    fputs("null", w->f);
}

void ngr_jw_kstr(struct ngr_jw *w, const char *key, const char *s) { ngr_jw_key(w, key); ngr_jw_str(w, s); }
void ngr_jw_kint(struct ngr_jw *w, const char *key, int64_t v) { ngr_jw_key(w, key); ngr_jw_int(w, v); }
void ngr_jw_kuint(struct ngr_jw *w, const char *key, uint64_t v) { ngr_jw_key(w, key); ngr_jw_uint(w, v); }
void ngr_jw_kbool(struct ngr_jw *w, const char *key, bool v) { ngr_jw_key(w, key); ngr_jw_bool(w, v); }

void ngr_jw_newline(struct ngr_jw *w)
{
    putc('\n', w->f);
}
