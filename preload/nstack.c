/* nstack.c — native stacks on synchronisation events (NOGILRACE_NATIVE_STACKS=1, off by default).
 *
 * libunwind is dlopen()ed at activation, only when asked for: a non-Python process never loads
 * it, and the default run does not pay for it.  Frames are symbolised with dladdr into strings
 * "function+0xoff (object)"; each distinct stack is defined once (NGR_OP_NATIVE_STACK).
 */
#include "ngr_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NGR_NATIVE_DEPTH 16
#define SKIP_FRAMES 3 /* ngr_native_stack_id, emit_sync_inner, the emitting function */

static int (*unw_backtrace_fn)(void **, int);
static _Atomic uint32_t next_native_id = 1;

void ngr_nstack_init(void)
{
    if (!ngr_options()->native_stacks || unw_backtrace_fn)
        return;
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        h = dlopen("libunwind.so", RTLD_NOW | RTLD_LOCAL);
    if (h)
        unw_backtrace_fn = (int (*)(void **, int))dlsym(h, "unw_backtrace");
    if (!unw_backtrace_fn)
        ngr_log(0, "NOGILRACE_NATIVE_STACKS=1 but libunwind could not be loaded; no native stacks");
}

/* Stacks already defined, keyed by a hash of their frames (under the metadata lock).  Zero-filled
 * static storage: untouched pages cost nothing.  A stack that finds no slot is given no id (the
 * event carries none), with one warning note the first time: never a definition per event. */
struct seen_stack {
    uint64_t hash;
    uint32_t id;
};
#define STACK_CAP 16384u
static struct seen_stack stacks[STACK_CAP];
static _Atomic int stacks_full;

static uint32_t frame_string(void *ip)
{
    char buf[512];
    Dl_info info;
    const char *obj = "?", *fn = NULL;
    uintptr_t off = (uintptr_t)ip;
    if (dladdr(ip, &info)) {
        if (info.dli_fname) {
            obj = strrchr(info.dli_fname, '/');
            obj = obj ? obj + 1 : info.dli_fname;
        }
        if (info.dli_sname) {
            fn = info.dli_sname;
            off = (uintptr_t)ip - (uintptr_t)info.dli_saddr;
        } else {
            off = (uintptr_t)ip - (uintptr_t)info.dli_fbase;
        }
    }
    size_t n;
    if (fn)
        n = (size_t)snprintf(buf, sizeof buf, "%s+0x%lx (%s)", fn, (unsigned long)off, obj);
    else
        n = (size_t)snprintf(buf, sizeof buf, "0x%lx (%s)", (unsigned long)off, obj);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    return ngr_intern_locked(buf, n);
}

uint32_t ngr_native_stack_id(void)
{
    if (!unw_backtrace_fn)
        return 0;
    void *ips[NGR_NATIVE_DEPTH + SKIP_FRAMES];
    int n = unw_backtrace_fn(ips, NGR_NATIVE_DEPTH + SKIP_FRAMES);
    if (n <= SKIP_FRAMES)
        return 0;
    void **f = ips + SKIP_FRAMES;
    n -= SKIP_FRAMES;
    /* Start at the program's frame: drop the hook itself (and any other frame of ours). */
    static void *self_base;
    Dl_info info;
    if (!self_base && dladdr((void *)ngr_native_stack_id, &info))
        self_base = info.dli_fbase;
    while (n > 1 && dladdr(f[0], &info) && info.dli_fbase == self_base) {
        f++;
        n--;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)(uintptr_t)f[i];
        h *= 0x100000001b3ull;
    }
    h = h ? h : 1;
    uint32_t id = 0;
    ngr_meta_lock();
    size_t j = h & (STACK_CAP - 1);
    for (unsigned probe = 0; probe < 32; probe++, j = (j + 1) & (STACK_CAP - 1)) {
        if (stacks[j].hash == h) {
            id = stacks[j].id;
            break;
        }
        if (stacks[j].hash == 0) {
            uint32_t strs[NGR_NATIVE_DEPTH];
            for (int i = 0; i < n; i++)
                strs[i] = frame_string(f[i]);
            id = atomic_fetch_add(&next_native_id, 1);
            unsigned words = 1 + (unsigned)(n + 1) / 2;
            uint64_t w[1 + NGR_NATIVE_DEPTH / 2 + 1];
            memset(w, 0, sizeof w);
            w[0] = ngr_word0(NGR_OP_NATIVE_STACK, words, (unsigned)n, id);
            memcpy(&w[1], strs, (size_t)n * sizeof(uint32_t));
            ngr_meta_write_locked(w, words);
            stacks[j] = (struct seen_stack){h, id};
            break;
        }
    }
    ngr_meta_unlock();
    if (!id && !atomic_load_explicit(&stacks_full, memory_order_relaxed) &&
        !atomic_exchange(&stacks_full, 1)) {
        /* called inside an event (depth held): the note's own entry point needs depth 0 */
        int depth = ngr_t.depth;
        ngr_t.depth = 0;
        ngr_note(NGR_NOTE_WARNING, "native stack table full (16384 entries): synchronisation "
                                   "events at native stacks first seen from now on have no native stack");
        ngr_t.depth = depth;
    }
    return id;
}
