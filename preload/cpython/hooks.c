/* hooks.c — entry point of the CPython hooks library (nogilrace-<tag>.so).
 *
 * libnogilrace.so dlopen()s this library once it knows the interpreter and calls ngr_hooks_init
 * on the main thread, attached, right before user code runs.  The access hooks (globals, class
 * attributes, containers) live in access*.c; the synchronisation half in sync*.c (hooks-sync).
 */
#include <Python.h>

#include "ngr_api.h"

#if __has_include("sync.h")
#include "sync.h"
#define NGR_HAVE_SYNC 1
#endif

NGR_API int ngr_hooks_init(void)
{
#ifdef NGR_HAVE_SYNC
    if (ngr_sync_init() != 0)
        return -1;
#endif
    return 0;
}
