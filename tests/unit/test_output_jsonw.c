/* test_output_jsonw.c — the JSON writer: separators, nesting, indentation, and escaping of any
 * bytes into valid JSON (control characters, quotes, invalid UTF-8 → U+FFFD). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

static char *BUF;
static size_t LEN;
static FILE *F;
static struct ngr_jw W;

static void open_buf(unsigned indent)
{
    F = open_memstream(&BUF, &LEN);
    cr_assert(F);
    ngr_jw_init(&W, F, indent);
}

static const char *close_buf(void)
{
    fclose(F);
    F = NULL;
    return BUF;
}

static void teardown(void)
{
    if (F)
        fclose(F);
    free(BUF);
    BUF = NULL;
}

TestSuite(json_writer, .fini = teardown);

Test(json_writer, compact_nesting_and_commas)
{
    open_buf(0);
    ngr_jw_obj_begin(&W);
    ngr_jw_kstr(&W, "a", "x");
    ngr_jw_kint(&W, "n", -3);
    ngr_jw_kuint(&W, "u", 18446744073709551615ull);
    ngr_jw_kbool(&W, "t", true);
    ngr_jw_key(&W, "arr");
    ngr_jw_arr_begin(&W);
    ngr_jw_null(&W);
    ngr_jw_obj_begin(&W);
    ngr_jw_obj_end(&W);
    ngr_jw_arr_begin(&W);
    ngr_jw_arr_end(&W);
    ngr_jw_str(&W, NULL);
    ngr_jw_arr_end(&W);
    ngr_jw_key(&W, "d");
    ngr_jw_double(&W, 0.0 / 0.0);
    ngr_jw_obj_end(&W);
    cr_assert_str_eq(close_buf(),
                     "{\"a\":\"x\",\"n\":-3,\"u\":18446744073709551615,\"t\":true,"
                     "\"arr\":[null,{},[],null],\"d\":null}");
}

Test(json_writer, indented)
{
    open_buf(2);
    ngr_jw_obj_begin(&W);
    ngr_jw_key(&W, "k");
    ngr_jw_arr_begin(&W);
    ngr_jw_int(&W, 1);
    ngr_jw_int(&W, 2);
    ngr_jw_arr_end(&W);
    ngr_jw_key(&W, "e");
    ngr_jw_arr_begin(&W);
    ngr_jw_arr_end(&W);
    ngr_jw_obj_end(&W);
    cr_assert_str_eq(close_buf(), "{\n  \"k\": [\n    1,\n    2\n  ],\n  \"e\": []\n}");
}

Test(json_writer, escapes_controls_and_quotes)
{
    open_buf(0);
    ngr_jw_strn(&W, "a\"b\\c\n\t\r\b\f\x01\x7f\0z", 14);
    cr_assert_str_eq(close_buf(), "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u007f\\u0000z\"");
}

Test(json_writer, valid_utf8_passes_through)
{
    open_buf(0);
    ngr_jw_str(&W, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d");
    cr_assert_str_eq(close_buf(), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d\"");
}

Test(json_writer, invalid_utf8_becomes_replacement)
{
    open_buf(0);
    /* lone continuation, overlong '/', surrogate U+D800, > U+10FFFF, truncated 3-byte, 0xff */
    const char in[] = "\x80|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82|\xff";
    ngr_jw_strn(&W, in, sizeof in - 1);
    cr_assert_str_eq(close_buf(), "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                                  "\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\"");
}

/* Every single byte value and every pair, as strings: the output never holds a raw control
 * character or an unescaped quote, and always starts and ends with a quote. */
Test(json_writer, any_bytes_give_a_clean_literal)
{
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b += 7) {
            char in[3] = {(char)a, (char)b, '"'};
            open_buf(0);
            ngr_jw_strn(&W, in, 3);
            const char *out = close_buf();
            size_t n = strlen(out);
            cr_assert_eq(LEN, n, "embedded NUL for %u %u", a, b);
            cr_assert(n >= 2 && out[0] == '"' && out[n - 1] == '"');
            for (size_t i = 1; i + 1 < n; i++) {
                cr_assert((unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "raw control for %u %u", a, b);
                if (out[i] == '\\')
                    i++;
                else
                    cr_assert(out[i] != '"', "bare quote for %u %u", a, b);
            }
            free(BUF);
            BUF = NULL;
        }
    }
}
