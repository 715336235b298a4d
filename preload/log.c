/* log.c — options from the environment, and ngr_log: one line on stderr, signal-safe.
 *
 * The formatter handles the small printf subset ngr_api.h promises and nothing else, so it can
 * run in a signal handler or a fork child (no malloc, no locale, no stdio lock).
 */
#include "ngr_internal.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------------------------- */

static struct ngr_options opts = {.trace_dir = ".", .stack_depth = 8};
static bool hooks_wanted = true;

static bool env_flag(const char *name, bool dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    return !(strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
             strcmp(v, "false") == 0);
}

void ngr_options_load(void)
{
    const char *v = getenv("NOGILRACE_TRACE_DIR");
    opts.trace_dir = v && *v ? v : ".";
    v = getenv("NOGILRACE_STACK_DEPTH");
    if (v && *v) {
        char *end;
        unsigned long d = strtoul(v, &end, 10);
        if (*end == 0 && d <= 256)
            opts.stack_depth = (unsigned)d;
        else
            ngr_log(0, "NOGILRACE_STACK_DEPTH=%s ignored (0..256)", v);
    }
    opts.native_stacks = env_flag("NOGILRACE_NATIVE_STACKS", false);
    v = getenv("NOGILRACE_INCLUDE");
    opts.include = v && *v ? v : NULL;
    v = getenv("NOGILRACE_EXCLUDE");
    opts.exclude = v && *v ? v : NULL;
    v = getenv("NOGILRACE_DEBUG");
    opts.debug = v && *v ? atoi(v) : 0;
    hooks_wanted = env_flag("NOGILRACE_HOOKS", true);
    /* NOGILRACE_ALL_READS: the older name, from when reads were the only thing filtered */
    opts.every_event = env_flag("NOGILRACE_EVERY_EVENT", false) || env_flag("NOGILRACE_ALL_READS", false);
}

const struct ngr_options *ngr_options(void) { return &opts; }

bool ngr_hooks_wanted(void) { return hooks_wanted; }

/* True when mod matches one of the comma-separated globs (a glob "pkg" also covers "pkg.sub"). */
static bool matches_any(const char *list, const char *mod)
{
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char pat[256];
        if (n && n < sizeof pat - 3) {
            memcpy(pat, p, n);
            pat[n] = 0;
            if (fnmatch(pat, mod, 0) == 0)
                return true;
            memcpy(pat + n, ".*", 3);
            if (fnmatch(pat, mod, 0) == 0)
                return true;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

bool ngr_module_wanted(const char *mod)
{
    if (!mod)
        return false;
    if (opts.include && !matches_any(opts.include, mod))
        return false;
    if (opts.exclude && matches_any(opts.exclude, mod))
        return false;
    return true;
}

/* ---- formatting ----------------------------------------------------------------------------- */

struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void put_str(struct out *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put(o, *s++);
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool neg)
{
    char tmp[32];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        put(o, '-');
    while (n)
        put(o, tmp[--n]);
}

size_t ngr_format(char *buf, size_t cap, const char *fmt, va_list ap)
{
    struct out o = {buf, cap, 0};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        int longs = 0;
        bool size = false;
        while (*f == 'l') {
            longs++;
            f++;
        }
        if (*f == 'z') {
            size = true;
            f++;
        }
        switch (*f) {
        case 's': put_str(&o, va_arg(ap, const char *)); break;
        case 'd': {
            long long v = longs ? va_arg(ap, long) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v;
            if (size)
                v = va_arg(ap, size_t);
            else if (longs >= 2)
                v = va_arg(ap, unsigned long long);
            else if (longs == 1)
                v = va_arg(ap, unsigned long);
            else
                v = va_arg(ap, unsigned);
            put_num(&o, v, *f == 'x' ? 16 : 10, false);
            break;
        }
        case 'p':
            put_str(&o, "0x");
            put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false);
            break;
        case '%': put(&o, '%'); break;
        case 0: f--; break;
        default: put(&o, '%'); put(&o, *f); break;
        }
    }
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = 0;
    return o.len < cap ? o.len : (cap ? cap - 1 : 0);
}

void ngr_log(int level, const char *fmt, ...)
{
    if (level > opts.debug)
        return;
    int saved = errno;
    char line[1024];
    memcpy(line, "nogilrace: ", 11);
    va_list ap;
    va_start(ap, fmt);
    size_t n = 11 + ngr_format(line + 11, sizeof line - 12, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    /* One write() per line: lines from several processes do not interleave mid-line. */
    size_t off = 0;
    int cancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    while (off < n) {
        ssize_t w = write(2, line + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    pthread_setcancelstate(cancel, NULL);
    errno = saved;
}
