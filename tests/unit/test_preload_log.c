/* test_preload_log.c — the signal-safe formatter behind ngr_log, and module include/exclude. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ngr_internal.h"

static size_t fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    size_t n = ngr_format(buf, cap, f, ap);
    va_end(ap);
    return n;
}

Test(log, conversions)
{
    char b[256];
    fmt(b, sizeof b, "%s|%d|%d|%u|%ld|%lu|%llu|%x|%lx|%zu|%%", "str", -42, 0, 4000000000u, -7L,
        123456789012UL, 18446744073709551615ULL, 0xbeefu, 0xdeadbeefcafeUL, (size_t)99);
    cr_assert_str_eq(b, "str|-42|0|4000000000|-7|123456789012|18446744073709551615|beef|deadbeefcafe|99|%");
    fmt(b, sizeof b, "%p %s", (void *)0x1234, (const char *)NULL);
    cr_assert_str_eq(b, "0x1234 (null)");
}

Test(log, truncates_without_overflow)
{
    char b[8];
    memset(b, 'Z', sizeof b);
    size_t n = fmt(b, 6, "%s", "abcdefghij");
    cr_assert_eq(n, 5);
    cr_assert_str_eq(b, "abcde");
    cr_assert_eq(b[6], 'Z', "nothing written past cap");
}

Test(log, module_patterns)
{
    setenv("NOGILRACE_INCLUDE", "app,lib*", 1);
    setenv("NOGILRACE_EXCLUDE", "app.vendor", 1);
    ngr_options_load();
    cr_assert(ngr_module_wanted("app"));
    cr_assert(ngr_module_wanted("app.core"));
    cr_assert(ngr_module_wanted("library"));
    cr_assert_not(ngr_module_wanted("app.vendor"));
    cr_assert_not(ngr_module_wanted("app.vendor.x"));
    cr_assert_not(ngr_module_wanted("apple"));
    cr_assert_not(ngr_module_wanted("json"));
    cr_assert_not(ngr_module_wanted(NULL));
    unsetenv("NOGILRACE_INCLUDE");
    unsetenv("NOGILRACE_EXCLUDE");
    ngr_options_load();
    cr_assert(ngr_module_wanted("json"));
    cr_assert_str_eq(ngr_options()->trace_dir, ".");
    cr_assert_eq(ngr_options()->stack_depth, 8);
}
