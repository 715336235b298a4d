/* sync_ids.c — ids for the C synchronisation objects (_thread.lock, _thread.RLock,
 * _queue.SimpleQueue) that stay unique when an address is reused.
 *
 * Names (SYNC_OBJ records) live in the metadata stream with no order relative to events, and the
 * last definition of an id wins; with id = address, a short-lived lock would be shown under the
 * name of whatever object later took its address.  So an object created while tracing gets
 * id = address | generation << 48 (user-space addresses fit in 47 bits), remembered in a
 * lock-free open-addressing table from its tp_new to its tp_dealloc.  Objects created before
 * tracing started, or when the table is crowded, keep id = address.
 *
 * Concurrency: an entry is inserted by the creating thread before the object is shared and removed
 * by its deallocator after the last use, so an entry never changes while others look it up;
 * removal leaves a tombstone (never an empty slot), so a probe never stops early.  An entry is one
 * word, the id itself (its low 48 bits are the address, the key): one CAS claims the slot and
 * publishes the id together.  (With the id stored beside the key before the CAS, two threads
 * inserting into the same free slot at once could both write their id, and the winner's key
 * would end up with the loser's id: its lock's events under another lock's id.)
 *
 * Named ids: the first global or class attribute an object is stored under names it for good
 * (ngr_sync_ids_claim_name); later aliases (`from app import lock`, a plugin copying a test
 * module's globals into its own) do not rename it.  A second table, of ids; an id leaves it
 * (tombstone) when its object is dropped, so a generation counter that wraps cannot make a new
 * object inherit the mark.  Its tombstones are not reused (two threads naming one object at once
 * could insert it twice), so a program that names and drops very many objects ends with probe
 * runs full of them: then every hint names, as before (the last alias wins).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

#include "sync_internal.h"

#define SLOTS (1u << 20)
#define PROBES 64
#define TOMB ((uintptr_t)1)

#define ADDR_BITS ((1ull << 48) - 1)

static _Atomic uint64_t *table;     /* ids, 0 empty, TOMB removed; mmap'ed: untouched pages are free */
static _Atomic uint64_t *named;     /* ids named by a name hint; 0 empty, TOMB removed */
static _Atomic uint64_t generation;

int ngr_sync_ids_init(void)
{
    void *p = mmap(NULL, SLOTS * sizeof(*table), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    table = p;
    p = mmap(NULL, SLOTS * sizeof(*named), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED)
        named = p;
    return 0;
}

static inline uint32_t slot_of(uintptr_t a)
{
    uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 40) & (SLOTS - 1);
}

uint64_t ngr_sync_ids_new(const void *obj)
{
    uintptr_t a = (uintptr_t)obj;
    if (!table || (a >> 48) || a == TOMB)
        return a;
    uint64_t gen = (atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed) & 0x7fff) + 1;
    uint64_t id = (uint64_t)a | gen << 48;
    uint32_t s = slot_of(a);
    for (unsigned i = 0; i < PROBES; i++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t k = atomic_load_explicit(&table[s], memory_order_relaxed);
        /* a free slot, claimed and published in one step; lost to another thread: probe on */
        if ((k == 0 || k == TOMB) &&
            atomic_compare_exchange_strong_explicit(&table[s], &k, id, memory_order_release,
                                                    memory_order_relaxed))
            return id;
    }
    return a;                       /* crowded: the plain address */
}

static _Atomic uint64_t *find(uintptr_t a)
{
    if (!table || a == TOMB)
        return NULL;
    uint32_t s = slot_of(a);
    for (unsigned i = 0; i < PROBES; i++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t k = atomic_load_explicit(&table[s], memory_order_acquire);
        if (k == 0)
            return NULL;
        if (k != TOMB && (k & ADDR_BITS) == a)
            return &table[s];
    }
    return NULL;
}

uint64_t ngr_sync_ids_get(const void *obj)
{
    _Atomic uint64_t *e = find((uintptr_t)obj);
    return e ? atomic_load_explicit(e, memory_order_acquire) : (uint64_t)(uintptr_t)obj;
}

static void unname(uint64_t id);

uint64_t ngr_sync_ids_drop(const void *obj)
{
    _Atomic uint64_t *e = find((uintptr_t)obj);
    if (!e)
        return 0;
    uint64_t id = atomic_exchange_explicit(e, TOMB, memory_order_acq_rel);
    unname(id);
    return id;
}

/* ---- named ids ----------------------------------------------------------------------------- */

bool ngr_sync_ids_claim_name(uint64_t id)
{
    if (!named || id == 0 || id == TOMB)
        return true;                /* no table: every hint names (last one wins) */
    uint32_t s = slot_of((uintptr_t)id ^ (uintptr_t)(id >> 48));
    for (unsigned i = 0; i < PROBES; i++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t k = atomic_load_explicit(&named[s], memory_order_acquire);
        if (k == id)
            return false;
        if (k != 0)
            continue;               /* taken or a tombstone: never reused, so no duplicates */
        if (atomic_compare_exchange_strong_explicit(&named[s], &k, id, memory_order_acq_rel,
                                                    memory_order_acquire))
            return true;
        if (k == id)
            return false;           /* another thread named it just now */
    }
    return true;                    /* crowded: name it anyway */
}

static void unname(uint64_t id)
{
    if (!named)
        return;
    uint32_t s = slot_of((uintptr_t)id ^ (uintptr_t)(id >> 48));
    for (unsigned i = 0; i < PROBES; i++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t k = atomic_load_explicit(&named[s], memory_order_acquire);
        if (k == id) {
            atomic_store_explicit(&named[s], TOMB, memory_order_release);
            return;
        }
        if (k == 0)
            return;
    }
}
