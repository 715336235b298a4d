/* test_preload_utf8.c — ngr_utf8_escape: bytes as UTF-8 text, non-UTF-8 bytes as \xNN (the
 * convention of Python's backslashreplace, for file names and command lines kept with
 * surrogateescape). */
#include <criterion/criterion.h>
#include <string.h>

#include "ngr_internal.h"

static const char *esc(const char *bytes, size_t n, size_t cap)
{
    static char out[256];
    cr_assert_leq(cap, sizeof out);
    size_t len = ngr_utf8_escape(bytes, n, out, cap);
    cr_assert_eq(len, strlen(out), "the length returned is the text's");
    return out;
}
#define ESC(lit) esc(lit, sizeof lit - 1, 256)

Test(utf8, valid_text_is_copied_unchanged)
{
    cr_assert_str_eq(ESC("/tmp/app.py"), "/tmp/app.py");
    cr_assert_str_eq(ESC("caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x90\x8d.py"), "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x90\x8d.py");
    cr_assert_str_eq(ESC(""), "");
}

Test(utf8, bytes_that_are_not_utf8_are_escaped)
{
    cr_assert_str_eq(ESC("/tmp/x\xff/app\xfe.py"), "/tmp/x\\xff/app\\xfe.py");
    cr_assert_str_eq(ESC("\x80"), "\\x80");             /* a lone continuation byte */
    cr_assert_str_eq(ESC("a\xc3"), "a\\xc3");           /* a sequence cut short at the end */
    cr_assert_str_eq(ESC("\xc3(x"), "\\xc3(x");         /* ... or by a byte that cannot continue it */
    cr_assert_str_eq(ESC("\xc0\xaf"), "\\xc0\\xaf");    /* overlong '/' */
    cr_assert_str_eq(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
    cr_assert_str_eq(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* an encoded surrogate */
    cr_assert_str_eq(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    cr_assert_str_eq(ESC("\xf5"), "\\xf5");
}

Test(utf8, cuts_between_whole_characters)
{
    /* "ab" and the 4-character escape need 7 bytes with the terminator */
    cr_assert_str_eq(esc("ab\xff", 3, 6), "ab");
    cr_assert_str_eq(esc("ab\xff", 3, 7), "ab\\xff");
    cr_assert_str_eq(esc("a\xe2\x82\xac", 4, 4), "a");   /* the euro sign needs 3 more */
    cr_assert_str_eq(esc("a\xe2\x82\xac", 4, 5), "a\xe2\x82\xac");
    char one[1] = {'x'};
    cr_assert_eq(ngr_utf8_escape("abc", 3, one, 1), 0);
    cr_assert_eq(one[0], 0);
}
