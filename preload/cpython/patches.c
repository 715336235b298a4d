/* patches.c — monkeypatching: functions, classes and modules rebound in a module or class
 * namespace once the program runs.
 *
 * Code held in globals is left untraced for speed: a definition's store is no record, and a read
 * site that finds a function, a class or a module is switched off at first sight (globals.c,
 * attributes.c).  Rebinding one later — `linecache.getlines = patched`, `mock.patch`,
 * `monkeypatch.setattr(mod, "f", fake)`, and the restore after — is the program changing shared
 * state, and two threads that patch and restore the same name lose each other's restore (doctest's
 * patch of linecache.getlines under pytest-run-parallel: RecursionError).  So the dict watcher
 * records such a rebinding as a write and marks its variable patched here; from then on its reads
 * are recorded too: read sites switched off before are switched back on once (sys.monitoring's
 * restart_events, at the first patch of each variable), and a read site that finds code of a
 * patched variable stays on.  Patches are rare; nothing changes for programs that make none.
 * Restarts are capped (MAX_RESTARTS variables): past that, read sites switched off before a
 * variable's first patch stay off (its later reads at sites not yet seen are still recorded).
 */
#include "acc.h"

#include <sys/mman.h>

#define MAX_PATCH_VARS (1u << 22)
#define MAX_RESTARTS 256u

static _Atomic uint8_t *patched; /* by var_id, an anonymous mapping made at the first patch */
static _Atomic uint32_t restarts;
NGR_HIDDEN _Atomic int ngr_patches_seen;

void ngr_patch_written(uint32_t var)
{
    if (!var || var >= MAX_PATCH_VARS)
        return;
    _Atomic uint8_t *p = atomic_load_explicit(&patched, memory_order_acquire);
    if (!p) {
        void *m = mmap(NULL, MAX_PATCH_VARS, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return;
        _Atomic uint8_t *expected = NULL;
        if (atomic_compare_exchange_strong(&patched, &expected, (_Atomic uint8_t *)m))
            p = m;
        else {
            munmap(m, MAX_PATCH_VARS);
            p = expected;
        }
    }
    if (atomic_exchange_explicit(&p[var], 1, memory_order_relaxed))
        return;
    atomic_store_explicit(&ngr_patches_seen, 1, memory_order_release);
    if (atomic_fetch_add_explicit(&restarts, 1, memory_order_relaxed) < MAX_RESTARTS)
        ngr_monitor_restart();
}

bool ngr_patch_is_patched(uint32_t var)
{
    _Atomic uint8_t *p = atomic_load_explicit(&patched, memory_order_acquire);
    return p && var && var < MAX_PATCH_VARS && atomic_load_explicit(&p[var], memory_order_relaxed);
}
