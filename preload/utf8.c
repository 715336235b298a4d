/* utf8.c — bytes as UTF-8 text, what is not UTF-8 written as \xNN.
 *
 * File names and command lines are bytes; Python keeps the bytes that are not UTF-8 as lone
 * surrogates (surrogateescape), which UTF-8 cannot encode, and the trace's strings are UTF-8.
 * Such a byte is written the way Python's backslashreplace writes it (b'app\xfe.py' becomes the
 * nine characters app\xfe.py), by the shim (the command line) and the hooks library (file and
 * module names) alike.  A valid sequence is copied whole or not at all, an escape likewise.
 */
#include "ngr_internal.h"

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when the byte at p starts none:
 * no overlong forms, no encoded surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t seq_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < k || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

size_t ngr_utf8_escape(const char *bytes, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)bytes;
    size_t o = 0;
    if (!cap)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t k = seq_len(p + i, n - i);
        if (k) {
            if (o + k >= cap)
                break;
            for (size_t j = 0; j < k; j++)
                out[o++] = (char)p[i + j];
            i += k;
        } else {
            if (o + 4 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 15];
            i++;
        }
    }
    out[o] = 0;
    return o;
}
