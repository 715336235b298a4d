/* caller.c — whose pthread calls are the program's.
 *
 * The interpreter uses pthread mutexes, condition variables and semaphores for itself (the GIL in
 * the default build, the parking lot, the allocator).  Recording those would flood the trace and,
 * worse, add happens-before edges between all threads that hide real races.  So pthread sync is
 * recorded only when the caller is native code outside the interpreter (executable or libpython),
 * libc, the dynamic loader and nogilrace itself: an extension module or a C library.
 */
#include "ngr_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

#define MAX_RANGES 32
struct range {
    uintptr_t lo, hi;
};
static struct range ranges[MAX_RANGES];
static _Atomic int n_ranges;

struct want {
    uintptr_t addr[8];
    int n;
};

static bool object_holds(struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz)
            return true;
    }
    return false;
}

static int add_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct want *w = data;
    bool hit = false;
    for (int i = 0; i < w->n; i++)
        if (object_holds(info, w->addr[i]))
            hit = true;
    /* The loader has no symbol we can take the address of portably: match it by name. */
    if (info->dlpi_name && strstr(info->dlpi_name, "/ld-linux"))
        hit = true;
    if (!hit)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        int k = atomic_load(&n_ranges);
        if (k >= MAX_RANGES)
            return 0;
        ranges[k].lo = info->dlpi_addr + ph->p_vaddr;
        ranges[k].hi = ranges[k].lo + ph->p_memsz;
        atomic_store(&n_ranges, k + 1);
    }
    return 0;
}

static void exclude(const void **addrs, int n)
{
    struct want w = {.n = 0};
    for (int i = 0; i < n && w.n < 8; i++)
        if (addrs[i])
            w.addr[w.n++] = (uintptr_t)addrs[i];
    dl_iterate_phdr(add_object, &w);
}

void ngr_callers_setup(const void *python_sym)
{
    const void *addrs[] = {python_sym, (const void *)real_pthread_mutex_lock,
                           (const void *)ngr_callers_setup};
    exclude(addrs, 3);
}

void ngr_callers_exclude_object_of(const void *addr)
{
    const void *addrs[] = {addr};
    exclude(addrs, 1);
}

/* NOGILRACE_PTHREAD_ALL=1 records the runtime's own calls too (to measure what the filter
 * removes; not for normal use). */
static bool record_all;
void ngr_callers_record_all(bool all) { record_all = all; }

bool ngr_caller_traced(const void *ra)
{
    if (NGR_UNLIKELY(record_all))
        return true;
    uintptr_t a = (uintptr_t)ra;
    int n = atomic_load_explicit(&n_ranges, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (a >= ranges[i].lo && a < ranges[i].hi)
            return false;
    return true;
}
