/* escape.h — names from a trace (or a file name) printed as text, safely.
 *
 * Everything the text report, the warnings and `dump` print that the analyzer did not write
 * itself (thread, module, variable, key, file, function and lock names, notes, paths) can hold any
 * bytes: a thread named "x\n==================\nWARNING: nogilrace: ..." would print a forged
 * finding, an ESC sequence would drive the terminal.  ngr_text_escape() is the one place that
 * decides what passes:
 *   - printable ASCII and valid UTF-8 pass through unchanged (non-ASCII names stay readable);
 *   - C0 controls and DEL become \n, \r, \t or \xNN (ESC is \x1b);
 *   - C1 controls (U+0080..U+009F, which some terminals obey like ESC), the line and paragraph
 *     separators U+2028/U+2029 and the bidirectional overrides (U+202A..U+202E,
 *     U+2066..U+2069: "Trojan Source") become \uNNNN;
 *   - a byte that is not part of valid UTF-8 becomes \xNN.
 * A backslash is left as it is (Python's repr() of a key already holds them), so the escapes are
 * for reading, not for parsing back.  JSON and SARIF have their own rules (json_writer.h), which
 * share ngr_utf8_seq(). */
#ifndef NGR_AN_ESCAPE_H
#define NGR_AN_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not valid UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF); its code point in *cp. */
size_t ngr_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes s (len bytes, any content) to f with the rules above. */
void ngr_text_escape(FILE *f, const char *s, size_t len);
/* The same for a C string (NULL prints nothing). */
void ngr_text_puts(FILE *f, const char *s);
/* One diagnostic line: prefix as it is (ours), then msg escaped (it names files, quotes notes),
 * then a newline. */
void ngr_text_line(FILE *f, const char *prefix, const char *msg);
/* A fresh heap string holding what ngr_text_escape() would print. */
char *ngr_text_escaped(const char *s);

#endif
