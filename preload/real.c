/* real.c — the one table of real libc/pthread functions, resolved in one place.
 *
 * dlsym(RTLD_NEXT) finds the next definition after libnogilrace.so; a check makes sure it did not
 * hand back our own hook (which would recurse forever).  Condition variables exist in two ABI
 * versions in glibc; the current one (GLIBC_2.3.2) is asked for by name with dlvsym.
 */
#include "ngr_internal.h"

#include <dlfcn.h>

#define NGR_REAL_DEF(ret, name, args) ret(*real_##name) args;
NGR_REAL_LIST(NGR_REAL_DEF)
NGR_REAL_COND_LIST(NGR_REAL_DEF)
#undef NGR_REAL_DEF

static void *self_base;

/* A symbol defined by libnogilrace.so itself is never "real". */
static void *checked(void *p)
{
    Dl_info info;
    if (p && dladdr(p, &info) && info.dli_fbase == self_base)
        return NULL;
    return p;
}

void ngr_real_resolve(void)
{
    if (!self_base) {
        Dl_info info;
        if (dladdr((void *)ngr_real_resolve, &info))
            self_base = info.dli_fbase;
    }
#define NGR_REAL_SET(ret, name, args)                                                              \
    if (!real_##name)                                                                              \
        real_##name = (ret(*) args)checked(dlsym(RTLD_NEXT, #name));
    NGR_REAL_LIST(NGR_REAL_SET)
#undef NGR_REAL_SET
#define NGR_REAL_SETV(ret, name, args)                                                             \
    if (!real_##name) {                                                                            \
        real_##name = (ret(*) args)checked(dlvsym(RTLD_NEXT, #name, "GLIBC_2.3.2"));               \
        if (!real_##name)                                                                          \
            real_##name = (ret(*) args)checked(dlsym(RTLD_NEXT, #name));                           \
    }
    NGR_REAL_COND_LIST(NGR_REAL_SETV)
#undef NGR_REAL_SETV
}
