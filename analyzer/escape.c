/* escape.c — see escape.h. */
#include "escape.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

size_t ngr_utf8_seq(const unsigned char *s, size_t n, uint32_t *cpp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        *cpp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return 0;
    *cpp = cp;
    return len;
}

/* Code points that move the cursor, end a line or reorder text in a terminal or an editor. */
static int hidden_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

void ngr_text_escape(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f) {
            putc((int)c, f);
            i++;
        } else if (c < 0x80) {
            if (c == '\n')
                fputs("\\n", f);
            else if (c == '\r')
                fputs("\\r", f);
            else if (c == '\t')
                fputs("\\t", f);
            else
                fprintf(f, "\\x%02x", c);
            i++;
        } else {
            uint32_t cp = 0;
            size_t l = ngr_utf8_seq(s + i, len - i, &cp);
            if (!l)
                fprintf(f, "\\x%02x", c), l = 1;
            else if (hidden_control(cp))
                fprintf(f, "\\u%04x", (unsigned)cp);
            else
                fwrite(s + i, 1, l, f);
            i += l;
        }
    }
}

void ngr_text_puts(FILE *f, const char *s)
{
    if (s)
        ngr_text_escape(f, s, strlen(s));
}

void ngr_text_line(FILE *f, const char *prefix, const char *msg)
{
    fputs(prefix, f);
    ngr_text_puts(f, msg);
    fputc('\n', f);
}

char *ngr_text_escaped(const char *s)
{
    char *out = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    if (!m)
        return ngr_xasprintf("<out of memory>");
    ngr_text_puts(m, s);
    if (fclose(m) != 0 || !out) {
        free(out);
        return ngr_xasprintf("<out of memory>");
    }
    return out;
}
