/* json_writer.h — a small streaming JSON writer: objects, arrays, keys, strings, numbers, with
 * commas and (optional) indentation handled for the caller.
 *
 * Strings may hold any bytes: '"', '\\' and control characters are escaped, valid UTF-8 passes
 * through, and every byte that is not part of a valid UTF-8 sequence (overlong forms, surrogates,
 * code points above U+10FFFF, truncated sequences) becomes U+FFFD, so the output is always valid
 * JSON whatever the trace held.  Non-finite doubles are written as null.
 *
 * Used by the JSON and SARIF report formats (output_json.c, output_sarif.c).  analyzer-core:
 * reuse it for `dump --json` if you like — indent 0 writes one document per line, which is what
 * JSON lines need (end each record with ngr_jw_newline()).
 *
 * The writer does not check the grammar beyond nesting depth (a key outside an object is the
 * caller's bug); it never allocates. */
#ifndef NGR_AN_JSON_WRITER_H
#define NGR_AN_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NGR_JW_MAX_DEPTH 64

struct ngr_jw {
    FILE *f;
    unsigned indent;                   /* spaces per level; 0 = compact, all on one line */
    unsigned depth;
    bool nonempty[NGR_JW_MAX_DEPTH];   /* the container at this depth has a member already */
    bool after_key;                    /* a key was written: the next value follows ": " */
};

/* Starts a writer on f.  indent 0 writes compact JSON with no newlines at all. */
void ngr_jw_init(struct ngr_jw *w, FILE *f, unsigned indent);

void ngr_jw_obj_begin(struct ngr_jw *w);
void ngr_jw_obj_end(struct ngr_jw *w);
void ngr_jw_arr_begin(struct ngr_jw *w);
void ngr_jw_arr_end(struct ngr_jw *w);
/* A member name inside an object; the next call writes its value. */
void ngr_jw_key(struct ngr_jw *w, const char *key);

void ngr_jw_str(struct ngr_jw *w, const char *s);            /* NULL writes null */
void ngr_jw_strn(struct ngr_jw *w, const char *s, size_t len);
void ngr_jw_int(struct ngr_jw *w, int64_t v);
void ngr_jw_uint(struct ngr_jw *w, uint64_t v);
void ngr_jw_double(struct ngr_jw *w, double v);
void ngr_jw_bool(struct ngr_jw *w, bool v);
void ngr_jw_null(struct ngr_jw *w);

/* key + value in one call. */
void ngr_jw_kstr(struct ngr_jw *w, const char *key, const char *s);
void ngr_jw_kint(struct ngr_jw *w, const char *key, int64_t v);
void ngr_jw_kuint(struct ngr_jw *w, const char *key, uint64_t v);
void ngr_jw_kbool(struct ngr_jw *w, const char *key, bool v);

/* Ends the current document with "\n" (for JSON lines, or a final newline). */
void ngr_jw_newline(struct ngr_jw *w);

/* The escaping on its own: s (len bytes, any content) as a JSON string literal, quotes included. */
void ngr_json_escape(FILE *f, const char *s, size_t len);

#endif
