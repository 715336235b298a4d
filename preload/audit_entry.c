/* audit_entry.c — the audit hook's list entry goes back to the allocator that made it.
 *
 * The shim registers its audit hook from its constructor, before Py_Initialize (activate.c).
 * PySys_AddAuditHook keeps the hook in an entry allocated with PyMem_RawMalloc, which at that
 * moment is the interpreter's built-in raw allocator.  Initialisation may then replace the raw
 * allocator (PYTHONMALLOC=debug, malloc_debug, pymalloc_debug, mimalloc_debug, -X dev), and at
 * finalisation _PySys_ClearAuditHooks frees every entry with the *current* PyMem_RawFree: the
 * debug allocator finds no header of its own in front of our entry and aborts the process
 * ("bad ID: Allocated using API '!'").
 *
 * The fix uses public API only (PyMemAllocatorEx, PyMem_GetAllocator / PyMem_SetAllocator, both
 * allowed before initialisation), so the shim stays free of CPython struct layouts:
 *   1. registration: the raw domain is wrapped for the one PySys_AddAuditHook call, which learns
 *      the entry's address and the allocator that made it (the wrapper is removed right after);
 *   2. _PySys_ClearAuditHooks raises the audit event "cpython._PySys_ClearAuditHooks" and then frees
 *      the entries.  When the raw allocator has changed since registration, our hook (called with
 *      that event) wraps the current raw allocator as tracemalloc does at run time: its free()
 *      hands our one entry to the allocator that made it and puts the wrapped allocator back;
 *      every other call goes straight through.
 * The wrappers use the wrapped allocator's own ctx, so a thread reading the allocator table while
 * it changes (a daemon thread at finalisation) sees consistent function/ctx pairs either way.
 */
#include "ngr_internal.h"

#include <dlfcn.h>
#include <stddef.h>

/* PyMemAllocatorEx and PYMEM_DOMAIN_RAW: public C API, unchanged since Python 3.5. */
struct ngr_pymem_alloc {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
    void *(*realloc)(void *ctx, void *ptr, size_t new_size);
    void (*free)(void *ctx, void *ptr);
};
#define NGR_PYMEM_DOMAIN_RAW 0

static void (*get_alloc)(int, struct ngr_pymem_alloc *);
static void (*set_alloc)(int, struct ngr_pymem_alloc *);

static struct ngr_pymem_alloc maker;  /* the raw allocator that made our entry */
static void *_Atomic entry;           /* our entry, until it is freed; NULL when unknown */
static unsigned made;                 /* raw allocations seen while registering */
static struct ngr_pymem_alloc below;  /* the raw allocator wrapped at finalisation */

/* ---- 1. registration ------------------------------------------------------------------------ */

static void *reg_malloc(void *ctx, size_t n)
{
    void *p = maker.malloc(ctx, n);
    if (p && made++ == 0)
        atomic_store(&entry, p);
    return p;
}

static void *reg_calloc(void *ctx, size_t k, size_t n)
{
    void *p = maker.calloc(ctx, k, n);
    if (p && made++ == 0)
        atomic_store(&entry, p);
    return p;
}

static void *reg_realloc(void *ctx, void *q, size_t n)
{
    made += 2; /* not what PySys_AddAuditHook does: the entry is not known for sure */
    return maker.realloc(ctx, q, n);
}

static void reg_free(void *ctx, void *q) { maker.free(ctx, q); }

int ngr_audit_hook_add(ngr_audit_add_fn add_hook, ngr_audit_hook_fn hook)
{
    *(void **)&get_alloc = dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
    *(void **)&set_alloc = dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
    if (!get_alloc || !set_alloc)
        return add_hook(hook, NULL);
    get_alloc(NGR_PYMEM_DOMAIN_RAW, &maker);
    struct ngr_pymem_alloc reg = {maker.ctx, reg_malloc, reg_calloc, reg_realloc, reg_free};
    set_alloc(NGR_PYMEM_DOMAIN_RAW, &reg);
    int rc = add_hook(hook, NULL);
    set_alloc(NGR_PYMEM_DOMAIN_RAW, &maker);
    if (rc != 0 || made != 1)
        atomic_store(&entry, NULL); /* exactly one allocation is the entry; anything else: unknown */
    return rc;
}

/* ---- 2. finalisation ------------------------------------------------------------------------ */

static void *fin_malloc(void *ctx, size_t n) { return below.malloc(ctx, n); }
static void *fin_calloc(void *ctx, size_t k, size_t n) { return below.calloc(ctx, k, n); }
static void *fin_realloc(void *ctx, void *q, size_t n) { return below.realloc(ctx, q, n); }

static void fin_free(void *ctx, void *q)
{
    void *mine = q ? atomic_load(&entry) : NULL;
    if (!mine || q != mine || !atomic_compare_exchange_strong(&entry, &mine, NULL)) {
        below.free(ctx, q);
        return;
    }
    maker.free(maker.ctx, q);
    /* Our entry is gone: the wrapper has no more work.  Put the wrapped allocator back unless
     * someone wrapped ours meanwhile (then ours stays, passing everything through). */
    struct ngr_pymem_alloc now;
    get_alloc(NGR_PYMEM_DOMAIN_RAW, &now);
    if (now.free == fin_free)
        set_alloc(NGR_PYMEM_DOMAIN_RAW, &below);
}

void ngr_audit_hooks_clearing(void)
{
    if (!atomic_load(&entry))
        return;
    struct ngr_pymem_alloc cur;
    get_alloc(NGR_PYMEM_DOMAIN_RAW, &cur);
    if (cur.free == maker.free && cur.ctx == maker.ctx)
        return; /* the allocator that made the entry frees it */
    if (cur.free == fin_free)
        return;
    below = cur;
    struct ngr_pymem_alloc w = {cur.ctx, fin_malloc, fin_calloc, fin_realloc, fin_free};
    set_alloc(NGR_PYMEM_DOMAIN_RAW, &w);
}
