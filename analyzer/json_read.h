/* json_read.h — a small JSON reader (RFC 8259) for the analyzer's own reports read back as input
 * (report_read.h): the whole document into a tree of values, each with the byte offset it
 * started at, so that a later complaint about its content can say where it is.
 *
 * Input is untrusted: any bytes give either a tree or one line "byte N: what" in err, never a
 * crash.  Nesting is limited (NGR_JSON_MAX_DEPTH), strings are decoded (\uXXXX with surrogate
 * pairs; a lone surrogate or \u0000 becomes U+FFFD, so every string is a C string with no
 * embedded NUL), other bytes are kept as they are (the outputs escape what is not UTF-8).
 * Integers without fraction or exponent that fit are kept exactly (is_int), others as doubles. */
#ifndef NGR_AN_JSON_READ_H
#define NGR_AN_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NGR_JSON_MAX_DEPTH 64

enum ngr_jv_type { NGR_JV_NULL, NGR_JV_BOOL, NGR_JV_NUM, NGR_JV_STR, NGR_JV_ARR, NGR_JV_OBJ };

struct ngr_jmember;

struct ngr_jv {
    enum ngr_jv_type type;
    size_t off;                    /* byte offset of the value's first character */
    bool b;                        /* BOOL */
    bool is_int;                   /* NUM: an integer that fits int64 (i), or a uint64 (u) */
    int64_t i;
    uint64_t u;
    bool is_uint;                  /* NUM: a non-negative integer that fits uint64 (u) */
    double num;                    /* NUM, always */
    char *str;                     /* STR: NUL-terminated */
    size_t len;                    /* STR: bytes; ARR/OBJ: items/members */
    struct ngr_jv *items;          /* ARR */
    struct ngr_jmember *members;   /* OBJ, in document order */
};

struct ngr_jmember {
    char *key;
    struct ngr_jv v;
};

/* Parses buf[0..len) as one JSON document (whitespace around it allowed).  0 with *out set, or
 * -1 with "byte N: what" in err (and *out left empty). */
int ngr_json_parse(const char *buf, size_t len, struct ngr_jv *out, char *err, size_t errlen);
void ngr_jv_free(struct ngr_jv *v);

/* The member named key of object o (the last one when repeated), or NULL (also when o is not an
 * object). */
const struct ngr_jv *ngr_jv_get(const struct ngr_jv *o, const char *key);
/* "null", "a boolean", "a number", "a string", "an array", "an object". */
const char *ngr_jv_type_name(enum ngr_jv_type t);

#endif
