/* vars.c — variable ids and names, tracked objects, dict-key ids.
 *
 * All lookups are lock-free reads of open-addressing tables in anonymous mappings (untouched
 * pages cost nothing); a miss takes one spinlock, defines the thing in the trace and publishes
 * it.  Nothing here runs Python code: names come from exact str objects, hashes of exact
 * str/int/bytes (and tuples of those) only, reprs of those exact types only.
 *
 * Each map is a primary table of MAP_SLOTS entries and, made on the first insert that finds its
 * primary probe window full, a spill table of SPILL_SLOTS: a program that never fills a primary
 * pays nothing for the spill (its pages are touched only then; entries spread over a bigger
 * table would cost a page each).  When both are full where a new entry would go, that thing is
 * left out (a variable, a module or class, a tracked object) or, for a dict key, recorded under
 * its id without its text — never defined again on every access, which would add a record and
 * leak memory per access.  The first time a map turns something away, one warning note in the
 * trace says which and what is no longer traced (`nogilrace report` shows it).
 */
#include "acc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- a lock-free map: (k1, k2) → value ------------------------------------------------------ */
#define MAP_SLOTS (1u << 14)
#define SPILL_SLOTS (1u << 16)
/* name_map holds up to three entries per namespace (its dict, its name, the names of the objects
 * its values are) and one per class: 24,000 modules holding an object each need 72,000 */
#define NAME_SPILL_SLOTS (1u << 18)
#define MAP_PROBES 128u
#define CAP_TXT "81920" /* MAP_SLOTS + SPILL_SLOTS, for the warnings */
_Static_assert(MAP_SLOTS + SPILL_SLOTS == 81920, "update CAP_TXT");
#define NAME_CAP_TXT "278528"
_Static_assert(MAP_SLOTS + NAME_SPILL_SLOTS == 278528, "update NAME_CAP_TXT");
struct slot {
    _Atomic uint64_t k1; /* 0 = empty */
    _Atomic uint64_t k2;
    _Atomic uint64_t val;
};
struct map {
    struct slot *s;
    _Atomic(struct slot *) spill; /* NULL until the primary first has no room */
    uint32_t spill_slots;
    ngr_spin lock;
};
static struct map var_map, tracked_map, key_map, name_map, held_map;

static void *table_map(uint32_t slots)
{
    void *p = mmap(NULL, slots * sizeof(struct slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int map_init(struct map *m, uint32_t spill_slots)
{
    m->s = table_map(MAP_SLOTS);
    m->spill_slots = spill_slots;
    return m->s ? 0 : -1;
}

static uint64_t hash2(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* A removed entry (map_forget): probes go on past it, inserts reuse it.  No k1 is 2: keys are
 * addresses (aligned, above the zero page) or odd hashes. */
#define MAP_TOMB 2u

/* One table's probe window for (k1, k2): the slot holding it, else NULL with *room = the slot
 * an insert would take (the first tombstone, else the empty slot that ends the window, else
 * NULL) and *crowded = the window has no empty slot.  An empty slot never comes back (removal
 * leaves a tombstone), so a window that reaches one proves the key is in no spill table. */
static struct slot *tab_probe(struct slot *t, uint32_t slots, uint64_t k1, uint64_t k2,
                              struct slot **room, bool *crowded)
{
    uint32_t mask = slots - 1, i = (uint32_t)hash2(k1, k2) & mask;
    *room = NULL;
    *crowded = false;
    for (unsigned probe = 0; probe < MAP_PROBES; probe++, i = (i + 1) & mask) {
        uint64_t a = atomic_load_explicit(&t[i].k1, memory_order_acquire);
        if (a == k1 && atomic_load_explicit(&t[i].k2, memory_order_relaxed) == k2)
            return &t[i];
        if (a == MAP_TOMB && !*room)
            *room = &t[i];
        if (a == 0) {
            if (!*room)
                *room = &t[i];
            return NULL;
        }
    }
    *crowded = true;
    return NULL;
}

/* Find (k1, k2); returns the slot, or NULL.  k1 must not be 0 or MAP_TOMB.  *crowded (if given)
 * tells a miss where both tables' windows are full: in a map without removals (var_map,
 * key_map) no insert of this key can succeed then, so the caller gives up without the lock. */
static struct slot *map_find_ex(struct map *m, uint64_t k1, uint64_t k2, bool *crowded)
{
    struct slot *room, *s;
    bool full;
    if (crowded)
        *crowded = false;
    s = tab_probe(m->s, MAP_SLOTS, k1, k2, &room, &full);
    if (s || !full)
        return s;
    struct slot *sp = atomic_load_explicit(&m->spill, memory_order_acquire);
    if (!sp)
        return NULL; /* no spill yet: an insert will make it */
    s = tab_probe(sp, m->spill_slots, k1, k2, &room, &full);
    if (crowded)
        *crowded = full;
    return s;
}

static struct slot *map_find(struct map *m, uint64_t k1, uint64_t k2)
{
    return map_find_ex(m, k1, k2, NULL);
}

/* Under m->lock (caller holds it): the slot holding (k1, k2), else the one an insert would take
 * (empty or removed; not yet published), NULL when full.  *fresh tells the two apart.  Makes the
 * spill table on the first insert that finds no room in the primary (one mmap, under the lock). */
static struct slot *map_slot_locked(struct map *m, uint64_t k1, uint64_t k2, bool *fresh)
{
    struct slot *room, *sroom = NULL, *s;
    bool full, sfull;
    *fresh = false;
    s = tab_probe(m->s, MAP_SLOTS, k1, k2, &room, &full);
    if (s)
        return s;
    if (full) {
        /* the key may sit in the spill table: look there before reusing a primary tombstone */
        struct slot *sp = atomic_load_explicit(&m->spill, memory_order_relaxed);
        if (!sp && !room) {
            sp = table_map(m->spill_slots);
            if (sp)
                atomic_store_explicit(&m->spill, sp, memory_order_release);
        }
        if (sp) {
            s = tab_probe(sp, m->spill_slots, k1, k2, &sroom, &sfull);
            if (s)
                return s;
        }
        if (!room)
            room = sroom;
    }
    *fresh = room != NULL;
    return room;
}

/* Fill a slot map_slot_locked gave: k2, val, then k1 (release): a reader that sees the key sees
 * the rest.  val is stored with release too, for map_get. */
static void map_publish_locked(struct slot *s, uint64_t k1, uint64_t k2, uint64_t val)
{
    atomic_store_explicit(&s->k2, k2, memory_order_relaxed);
    atomic_store_explicit(&s->val, val, memory_order_release);
    atomic_store_explicit(&s->k1, k1, memory_order_release);
}

/* Remove an entry under m->lock: a tombstone, which inserts reuse. */
static void map_remove_locked(struct slot *s)
{
    atomic_store_explicit(&s->val, 0, memory_order_relaxed);
    atomic_store_explicit(&s->k1, MAP_TOMB, memory_order_release);
}

/* The value of (k1, k2), 0 if none, in a map whose removed slots are reused: the key is checked
 * again after the value is read, so a slot removed and taken by another key meanwhile (its value
 * is stored after the tombstone, with release) does not hand that key's value out. */
static uint64_t map_get(struct map *m, uint64_t k1, uint64_t k2)
{
    struct slot *s = map_find(m, k1, k2);
    if (!s)
        return 0;
    uint64_t v = atomic_load_explicit(&s->val, memory_order_acquire);
    if (atomic_load_explicit(&s->k1, memory_order_relaxed) != k1 ||
        atomic_load_explicit(&s->k2, memory_order_relaxed) != k2)
        return 0;
    return v;
}

/* Insert or update under m->lock (caller holds it); returns the slot, NULL when full. */
static struct slot *map_put_locked(struct map *m, uint64_t k1, uint64_t k2, uint64_t val)
{
    bool fresh;
    struct slot *s = map_slot_locked(m, k1, k2, &fresh);
    if (s && fresh)
        map_publish_locked(s, k1, k2, val);
    else if (s)
        atomic_store_explicit(&s->val, val, memory_order_release);
    return s;
}

/* Remove (k1, k2), whose object is being freed: nobody looks it up any more, so no lock (a
 * concurrent insert only takes empty or removed slots, never this one before it is removed). */
static void map_forget(struct map *m, uint64_t k1, uint64_t k2)
{
    struct slot *s = map_find(m, k1, k2);
    if (s) {
        atomic_store_explicit(&s->val, 0, memory_order_relaxed);
        atomic_store_explicit(&s->k1, MAP_TOMB, memory_order_release);
    }
}

/* A map turned something away: one warning note in the trace, the first time only. */
static _Atomic int var_full, name_full, key_full, tracked_full, held_full;

void ngr_acc_table_full(_Atomic int *once, const char *msg)
{
    if (atomic_load_explicit(once, memory_order_relaxed) || atomic_exchange(once, 1))
        return;
    ngr_note(NGR_NOTE_WARNING, msg);
    ngr_log(1, "%s", msg);
}

static void name_map_full(void)
{
    ngr_acc_table_full(&name_full, "name table full (" NAME_CAP_TXT " entries): modules, classes "
                       "and objects first seen from now on are not traced");
}

static void tracked_map_full(void)
{
    ngr_acc_table_full(&tracked_full, "object table full (" CAP_TXT " entries): objects first "
                       "stored in module state from now on are not traced");
}

/* ---- names of vars (by var_id), for naming what hangs under them ---------------------------- */
#define MAX_NAMED (1u << 20)
static _Atomic(const char *) *var_names;

static void init_main_stem(void);

static const char *keep(const char *s)
{
    return s ? strdup(s) : NULL;
}

int ngr_vars_init(void)
{
    if (map_init(&var_map, SPILL_SLOTS) || map_init(&tracked_map, SPILL_SLOTS) ||
        map_init(&key_map, SPILL_SLOTS) || map_init(&name_map, NAME_SPILL_SLOTS) ||
        map_init(&held_map, SPILL_SLOTS))
        return -1;
    void *p = mmap(NULL, MAX_NAMED * sizeof(*var_names), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    var_names = p;
    init_main_stem();
    return 0;
}

static uint32_t define(const char *full, unsigned kind, uint32_t parent)
{
    uint32_t id = ngr_new_var_id();
    ngr_define_var(id, kind, ngr_intern_string(full, strlen(full)), parent);
    if (id < MAX_NAMED)
        atomic_store_explicit(&var_names[id], keep(full), memory_order_release);
    return id;
}

const char *ngr_str_utf8(PyObject *s, char *buf, size_t cap, size_t *len)
{
    if (!s || !PyUnicode_CheckExact(s))
        return NULL;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u) {
        if (len)
            *len = (size_t)n;
        return u;
    }
    PyErr_Clear();
    /* Lone surrogates: the bytes surrogateescape kept, as bytes again, then escaped; any other
     * surrogate as backslashreplace writes it (\udNNN).  Both error handlers are built into the
     * UTF-8 encoder: no codec lookup, no Python code. */
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
    if (!b) {
        PyErr_Clear();
        b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    }
    if (!b) {
        PyErr_Clear();
        return NULL;
    }
    size_t k = ngr_utf8_escape(PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b), buf, cap);
    Py_DECREF(b);
    if (len)
        *len = k;
    return buf;
}

/* The text lives in s, or in a per-thread buffer the next call reuses. */
static const char *str_utf8(PyObject *s)
{
    static __thread char escaped[1024];
    return ngr_str_utf8(s, escaped, sizeof escaped, NULL);
}

/* ---- module and class names ------------------------------------------------------------------ */

/* The script's stem when the program was started as `python app.py` (from sys.argv[0] at init:
 * the __main__ dict has no __file__ yet then), else NULL. */
static char main_stem[256];

static void init_main_stem(void)
{
    PyObject *argv = PySys_GetObject("argv"); /* borrowed */
    const char *a0 = argv && PyList_Check(argv) && PyList_GET_SIZE(argv) > 0
                         ? str_utf8(PyList_GET_ITEM(argv, 0)) : NULL;
    size_t n = a0 ? strlen(a0) : 0;
    if (n > 3 && !strcmp(a0 + n - 3, ".py")) {
        const char *base = strrchr(a0, '/');
        snprintf(main_stem, sizeof main_stem, "%s", base ? base + 1 : a0);
        main_stem[strlen(main_stem) - 3] = 0;
    }
    PyErr_Clear();
}

/* "app" for the __main__ script run from app.py, else the module's __name__. */
static const char *module_display(PyObject *globals)
{
    PyObject *name = ngr_v_dict_get_cstr(globals, "__name__"); /* borrowed */
    const char *n = str_utf8(name);
    if (!n)
        return NULL;
    if (strcmp(n, "__main__") != 0)
        return n;
    if (main_stem[0])
        return main_stem;
    const char *file = str_utf8(ngr_v_dict_get_cstr(globals, "__file__"));
    if (!file)
        return n;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    static __thread char buf[256];
    snprintf(buf, sizeof buf, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = 0;
    return buf;
}

/* One copy of each module name: a namespace re-created at a freed one's address (exec() into a
 * fresh dict in a loop, a module reloaded) finds its name here instead of leaking a new copy.
 * Under name_map.lock.  NULL (the thing goes untraced) when the name cannot be kept once: the map
 * is full, or a 64-bit hash collision of two different names — a copy per call would leak. */
#define NAME_STR 0x6e616d65u /* k2 of the name copies, apart from 1 (dicts), 2 (types), 3+kind */

static uint64_t cstr_hash(const char *p);

static const char *intern_name_locked(const char *n)
{
    uint64_t k1 = cstr_hash(n) | 1;
    struct slot *s = map_find(&name_map, k1, NAME_STR);
    const char *had = s ? (const char *)(uintptr_t)atomic_load_explicit(&s->val, memory_order_relaxed) : NULL;
    if (had)
        return strcmp(had, n) ? NULL : had;
    bool fresh;
    s = map_slot_locked(&name_map, k1, NAME_STR, &fresh);
    if (!s) {
        name_map_full();
        return NULL;
    }
    const char *kept = keep(n);
    if (kept && fresh)
        map_publish_locked(s, k1, NAME_STR, (uint64_t)(uintptr_t)kept);
    else if (kept)
        atomic_store_explicit(&s->val, (uint64_t)(uintptr_t)kept, memory_order_release);
    return kept;
}

/* The cache below is keyed by the dict's address, and an address outlives its dict: a module
 * freed (an untraced one, a test module) and another created at the same address would inherit
 * the old name — and with NOGILRACE_INCLUDE/EXCLUDE be traced or left out by the wrong name.
 * So every dict whose name is cached is watched (ngr_watch_lifetime): its deallocation evicts
 * the entry (ngr_vars_forget_ns, from the dict watcher, before the memory can be reused).  A hit
 * costs nothing more than before: the cost is a watcher callback on each mutation of a cached
 * namespace that is not traced, which returns after one table probe (watch.c).  Validating hits
 * instead was rejected: the identity of the old `__name__` str can come back too (it is freed
 * with the module, same size class), comparing its text means a dict lookup and a strcmp on
 * every hit, and ma_version_tag changes on every write to the module's globals. */
const char *ngr_vars_module_name(PyObject *globals)
{
    if (!globals || !PyDict_Check(globals))
        return NULL;
    struct slot *s = map_find(&name_map, (uint64_t)(uintptr_t)globals, 1);
    const char *known = s ? (const char *)(uintptr_t)atomic_load_explicit(&s->val, memory_order_acquire) : NULL;
    if (known)
        return known;
    const char *n = module_display(globals);
    if (!n)
        return NULL;
    ngr_spin_lock(&name_map.lock);
    const char *kept = intern_name_locked(n);
    ngr_spin_unlock(&name_map.lock);
    if (!kept)
        return NULL;
    ngr_spin_lock(&name_map.lock);
    s = map_put_locked(&name_map, (uint64_t)(uintptr_t)globals, 1, (uint64_t)(uintptr_t)kept);
    ngr_spin_unlock(&name_map.lock);
    if (!s)
        name_map_full();
    /* Watched once cached (a full map caches nothing: no watching each time).  The dict is alive
     * for our caller meanwhile.  Watching cannot fail with the watcher registered, but an entry
     * nothing would evict is the bug this avoids: then it goes. */
    if (s && !ngr_watch_lifetime(globals))
        atomic_store_explicit(&s->val, 0, memory_order_release);
    return kept;
}

/* Stdlib modules whose own objects are synchronisation machinery, reported as such, not as state. */
bool ngr_vars_sync_module(const char *m)
{
    return !strcmp(m, "threading") || !strcmp(m, "queue") || !strncmp(m, "concurrent.", 11) ||
           !strncmp(m, "multiprocessing", 15) || !strcmp(m, "_thread") || !strcmp(m, "asyncio") ||
           !strncmp(m, "asyncio.", 8);
}

/* Classes are cached by address like module dicts, with the same hazard the other way round
 * too: a class of a traced module freed (a class made in a function, a test's class) and a
 * library's class created at its address would be traced under the traced one's name (and an
 * untraced class's "not ours" would hide a traced one).  A heap type's entry is evicted by a
 * weak reference whose callback is a C function bound to the type's address: weak references
 * are cleared (callbacks run) before the type's memory is freed, even when a cycle collection
 * frees it, and unlike its tp_dict (kept by a `Cls.__dict__` proxy) the type cannot outlive
 * them.  Three small objects per heap type seen, made once, on the miss path; hits unchanged.
 * Static types are never freed. */
static PyObject *type_died(PyObject *addr, PyObject *wr)
{
    void *p = PyLong_AsVoidPtr(addr);
    if (p)
        map_forget(&name_map, (uint64_t)(uintptr_t)p, 2);
    PyErr_Clear();
    Py_DECREF(wr); /* the reference watch_type_lifetime kept */
    Py_RETURN_NONE;
}

static PyMethodDef type_died_def = {"_nogilrace_type_died", type_died, METH_O, NULL};

static bool watch_type_lifetime(PyTypeObject *tp)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *addr = PyLong_FromVoidPtr(tp);
    PyObject *cb = addr ? PyCFunction_New(&type_died_def, addr) : NULL;
    PyObject *wr = cb ? PyWeakref_NewRef((PyObject *)tp, cb) : NULL; /* kept until the callback */
    Py_XDECREF(cb);
    Py_XDECREF(addr);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return wr != NULL;
}

const char *ngr_vars_class_name(PyTypeObject *tp)
{
    struct slot *s = map_find(&name_map, (uint64_t)(uintptr_t)tp, 2);
    const char *known = s ? (const char *)(uintptr_t)atomic_load_explicit(&s->val, memory_order_acquire) : NULL;
    if (known)
        return known; /* NULL: never seen, or a freed class's entry */
    const char *name = NULL;
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyObject *d = tp->tp_dict;
        const char *mod = d ? str_utf8(ngr_v_dict_get_cstr(d, "__module__")) : NULL;
        const char *qual = str_utf8(((PyHeapTypeObject *)tp)->ht_qualname);
        if (mod && qual && !ngr_vars_sync_module(mod)) {
            char buf[512];
            if (!strcmp(mod, "__main__")) {
                PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
                const char *m = main ? ngr_vars_module_name(PyModule_GetDict(main)) : NULL;
                PyErr_Clear();
                if (m)
                    mod = m;
            }
            if (ngr_module_wanted(mod)) {
                snprintf(buf, sizeof buf, "%s.%s", mod, qual);
                ngr_spin_lock(&name_map.lock);
                name = intern_name_locked(buf); /* classes made in a loop share one copy */
                ngr_spin_unlock(&name_map.lock);
            }
        }
    }
    /* Remember "not a class of ours" too (an empty string). */
    const char *val = name ? name : "";
    ngr_spin_lock(&name_map.lock);
    s = map_put_locked(&name_map, (uint64_t)(uintptr_t)tp, 2, (uint64_t)(uintptr_t)val);
    ngr_spin_unlock(&name_map.lock);
    if (!s)
        name_map_full();
    /* The weak reference only once cached: a full map must not add one per lookup.  Without
     * one, the entry goes (nothing would evict it). */
    if (s && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && !watch_type_lifetime(tp))
        atomic_store_explicit(&s->val, 0, memory_order_release);
    return val;
}

bool ngr_vars_is_class_of_wanted(PyTypeObject *tp)
{
    const char *n = ngr_vars_class_name(tp);
    return n && *n;
}

/* ---- variables ----------------------------------------------------------------------------- */

static uint64_t cstr_hash(const char *p)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h * 0x9e3779b97f4a7c15ull;
}

void ngr_vars_forget_ns(PyObject *ns)
{
    map_forget(&name_map, (uint64_t)(uintptr_t)ns, 1);
}

uintptr_t ngr_vars_held_swap(PyObject *ns, PyObject *name, uintptr_t value)
{
    Py_hash_t h = PyObject_Hash(name); /* exact str (callers check): cached, no user code */
    uint64_t k1 = (uint64_t)(uintptr_t)ns, k2 = (uint64_t)h;
    struct slot *s = map_find(&held_map, k1, k2);
    if (s)
        return (uintptr_t)atomic_exchange_explicit(&s->val, value, memory_order_acq_rel);
    if (!value)
        return 0;
    ngr_spin_lock(&held_map.lock);
    s = map_find(&held_map, k1, k2);
    uintptr_t old = s ? (uintptr_t)atomic_exchange_explicit(&s->val, value, memory_order_acq_rel) : 0;
    if (!s && !map_put_locked(&held_map, k1, k2, value))
        old = NGR_HELD_FULL;
    ngr_spin_unlock(&held_map.lock);
    if (old == NGR_HELD_FULL)
        ngr_acc_table_full(&held_full, "binding table full (" CAP_TXT " entries): objects first "
                           "stored in module state from now on are not traced");
    return old;
}

void ngr_vars_held_forget(PyObject *ns, PyObject *name)
{
    Py_hash_t h = PyObject_Hash(name); /* exact str (callers check): cached, no user code */
    uint64_t k1 = (uint64_t)(uintptr_t)ns, k2 = (uint64_t)h;
    if (!map_find(&held_map, k1, k2))
        return;
    ngr_spin_lock(&held_map.lock);
    struct slot *s = map_find(&held_map, k1, k2);
    if (s)
        map_remove_locked(s);
    ngr_spin_unlock(&held_map.lock);
}

uint32_t ngr_vars_named_maybe(PyObject *ns, PyObject *name, const char *ns_name)
{
    if (!ns || !name || !PyUnicode_CheckExact(name) || !ns_name)
        return 0;
    Py_hash_t h = PyObject_Hash(name); /* exact str: cached, no user code */
    struct slot *s = map_find(&var_map, (uint64_t)(uintptr_t)ns, (uint64_t)h ^ cstr_hash(ns_name));
    return s ? (uint32_t)atomic_load_explicit(&s->val, memory_order_acquire) : 0;
}

uint32_t ngr_vars_named(PyObject *ns, PyObject *name, const char *ns_name, unsigned kind)
{
    if (!ns || !name || !PyUnicode_CheckExact(name) || !ns_name)
        return 0;
    Py_hash_t h = PyObject_Hash(name); /* exact str: cached, no user code */
    /* The namespace's name is part of the key: a freed module or class dict's address can come
     * back as another namespace, whose variables must not inherit the old names. */
    uint64_t k1 = (uint64_t)(uintptr_t)ns, k2 = (uint64_t)h ^ cstr_hash(ns_name);
    bool crowded;
    struct slot *s = map_find_ex(&var_map, k1, k2, &crowded);
    if (s)
        return (uint32_t)atomic_load_explicit(&s->val, memory_order_acquire);
    if (crowded)
        goto full; /* nothing is ever removed from var_map: it cannot go in, now or later */
    const char *n = str_utf8(name);
    if (!n)
        return 0;
    char full[512];
    snprintf(full, sizeof full, "%s.%s", ns_name, n);
    ngr_spin_lock(&var_map.lock);
    bool fresh;
    s = map_slot_locked(&var_map, k1, k2, &fresh);
    uint32_t id = s && !fresh ? (uint32_t)atomic_load_explicit(&s->val, memory_order_relaxed) : 0;
    if (s && fresh) {
        /* the slot first, then the definition: a variable that has no slot is never defined */
        id = define(full, kind, 0);
        map_publish_locked(s, k1, k2, id);
    }
    ngr_spin_unlock(&var_map.lock);
    if (s)
        return id;
full:
    /* Left out, re-decided on each access by the probe above (no lock, no allocation): a
     * variable defined anew each time would add a record and a leaked name per access. */
    ngr_acc_table_full(&var_full, "variable table full (" CAP_TXT " entries): variables first "
                       "seen from now on are not traced");
    return 0;
}

static bool is_deque(PyTypeObject *tp)
{
    for (; tp; tp = tp->tp_base)
        if (!strcmp(tp->tp_name, "collections.deque"))
            return true;
    return false;
}

/* Worth tracking: mutable containers and instances of user classes. */
static bool trackable(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (PyDict_Check(obj) || PyList_Check(obj) || PyByteArray_Check(obj) ||
        (PyAnySet_Check(obj) && !PyFrozenSet_Check(obj)) || is_deque(tp))
        return true;
    if (PyType_Check(obj) || PyModule_Check(obj) || PyFunction_Check(obj) || PyCFunction_Check(obj))
        return false;
    return ngr_is_iterator(obj) || ((tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && ngr_vars_is_class_of_wanted(tp));
}

static PyObject *instance_dict(PyObject *obj);

bool ngr_vars_track(PyObject *obj, const char *name)
{
    if (!obj || !name || !trackable(obj))
        return false;
    uint64_t k1 = (uint64_t)(uintptr_t)obj, k2 = (uint64_t)(uintptr_t)Py_TYPE(obj);
    struct slot *s = map_find(&tracked_map, k1, k2);
    if (s && atomic_load_explicit(&s->val, memory_order_acquire))
        return true; /* first name wins: the object keeps its identity in the report */
    unsigned kind = PyDict_Check(obj) || PyList_Check(obj) || PyAnySet_Check(obj) ||
                    PyByteArray_Check(obj) || is_deque(Py_TYPE(obj)) ? NGR_VAR_CONTAINER
                    : ngr_is_iterator(obj) ? NGR_VAR_ITERATOR : NGR_VAR_OBJ_ATTR;
    /* One variable per name: `cache = {}` rebinding app.cache to a new dict keeps the variable
     * (what users read in the report), and repeated rebinding does not grow the metadata. */
    uint64_t nk = cstr_hash(name) | 1;
    ngr_spin_lock(&tracked_map.lock);
    struct slot *ns = map_find(&name_map, nk, 3 + kind);
    uint32_t id = ns ? (uint32_t)atomic_load_explicit(&ns->val, memory_order_relaxed) : 0;
    if (!id) {
        /* the name's slot first: a name that cannot be remembered is not defined (again) */
        bool fresh;
        ngr_spin_lock(&name_map.lock);
        ns = map_slot_locked(&name_map, nk, 3 + kind, &fresh);
        if (ns) {
            id = define(name, kind, 0);
            if (fresh)
                map_publish_locked(ns, nk, 3 + kind, id);
            else
                atomic_store_explicit(&ns->val, id, memory_order_release);
        }
        ngr_spin_unlock(&name_map.lock);
        if (!ns) {
            ngr_spin_unlock(&tracked_map.lock);
            name_map_full();
            return false;
        }
    }
    s = map_find(&tracked_map, k1, k2);
    bool put = (s && atomic_load_explicit(&s->val, memory_order_relaxed)) ||
               map_put_locked(&tracked_map, k1, k2, id);
    ngr_spin_unlock(&tracked_map.lock);
    if (!put) {
        tracked_map_full();
        return false;
    }
    if (kind == NGR_VAR_OBJ_ATTR) {
        /* Its __dict__ (materialised now, before other threads use it through us): code that
         * works on the dict directly — functools.cached_property, vars(obj)[k], __dict__.update —
         * touches the same attributes, reported as app.OBJ.<key>. */
        PyObject *d = instance_dict(obj);
        if (d) {
            ngr_spin_lock(&tracked_map.lock);
            bool dput = map_put_locked(&tracked_map, (uint64_t)(uintptr_t)d, 1, (uint64_t)(uintptr_t)obj);
            ngr_spin_unlock(&tracked_map.lock);
            if (!dput) /* its attributes are still seen through the object, not its __dict__ */
                tracked_map_full();
            Py_DECREF(d);
        }
    }
    return true;
}

/* The __dict__ of an object of a user class, created if needed (PyObject_GenericGetDict runs no
 * Python code); new reference, NULL if the object has none. */
static PyObject *instance_dict(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
        !((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) || tp->tp_dictoffset > 0))
        return NULL;
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (!d || !PyDict_Check(d)) {
        PyErr_Clear();
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

/* The entries go (tombstones that inserts reuse): a long run that binds module state to object
 * after object at new addresses would otherwise fill tracked_map with dead keys, and from then
 * on trace no new object. */
void ngr_vars_untrack(PyObject *obj)
{
    if (!obj)
        return;
    uint64_t k1 = (uint64_t)(uintptr_t)obj, k2 = (uint64_t)(uintptr_t)Py_TYPE(obj);
    if (!map_get(&tracked_map, k1, k2))
        return;
    PyObject *d = instance_dict(obj); /* before the lock: it may allocate */
    ngr_spin_lock(&tracked_map.lock);
    struct slot *s = map_find(&tracked_map, k1, k2);
    if (s)
        map_remove_locked(s);
    struct slot *ds = d ? map_find(&tracked_map, (uint64_t)(uintptr_t)d, 1) : NULL;
    if (ds && atomic_load_explicit(&ds->val, memory_order_relaxed) == (uint64_t)(uintptr_t)obj)
        map_remove_locked(ds);
    ngr_spin_unlock(&tracked_map.lock);
    Py_XDECREF(d);
}

PyObject *ngr_vars_dict_owner(PyObject *dict)
{
    return (PyObject *)(uintptr_t)map_get(&tracked_map, (uint64_t)(uintptr_t)dict, 1);
}

uint32_t ngr_vars_tracked(PyObject *obj)
{
    return (uint32_t)map_get(&tracked_map, (uint64_t)(uintptr_t)obj, (uint64_t)(uintptr_t)Py_TYPE(obj));
}

const char *ngr_vars_name(uint32_t var)
{
    return var && var < MAX_NAMED ? atomic_load_explicit(&var_names[var], memory_order_acquire) : NULL;
}

uint32_t ngr_vars_attr(uint32_t objvar, PyObject *attr)
{
    const char *base = ngr_vars_name(objvar);
    /* Keyed by the object's variable, not its address: a rebinding of the same name keeps its
     * attributes' variables (as for the object itself), a new shared object at a dead one's
     * address gets new ones.  No user-space address has the top bit set. */
    return base ? ngr_vars_named((PyObject *)(uintptr_t)(1ull << 63 | objvar), attr, base,
                                 NGR_VAR_OBJ_ATTR) : 0;
}

const char *ngr_vars_intern(const char *name)
{
    ngr_spin_lock(&name_map.lock);
    const char *kept = intern_name_locked(name);
    ngr_spin_unlock(&name_map.lock);
    return kept;
}

uint32_t ngr_vars_new_object(const char *name, unsigned kind)
{
    const char *kept = ngr_vars_intern(name); /* one copy per name, however many objects bear it */
    if (!kept)
        return 0;
    uint32_t id = ngr_new_var_id();
    ngr_define_var(id, kind, ngr_intern_string(kept, strlen(kept)), 0);
    if (id < MAX_NAMED)
        atomic_store_explicit(&var_names[id], kept, memory_order_release);
    return id;
}


/* ---- keys ---------------------------------------------------------------------------------- */

static bool plain_scalar(PyObject *k)
{
    return PyUnicode_CheckExact(k) || PyLong_CheckExact(k) || PyBytes_CheckExact(k) ||
           k == Py_None || PyBool_Check(k);
}

static bool plain_key(PyObject *k)
{
    if (plain_scalar(k))
        return true;
    if (!PyTuple_CheckExact(k) || PyTuple_GET_SIZE(k) > 8)
        return false;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(k); i++)
        if (!plain_scalar(PyTuple_GET_ITEM(k, i)))
            return false;
    return true;
}

uint64_t ngr_vars_key(PyObject *key)
{
    if (!key || !plain_key(key))
        return 0;
    Py_hash_t h = PyObject_Hash(key); /* built-in hashes of exact scalars: no user code */
    if (h == -1) {
        PyErr_Clear();
        return 0;
    }
    uint64_t id = hash2((uint64_t)h, (uint64_t)(uintptr_t)Py_TYPE(key)) | 1;
    bool crowded;
    if (map_find_ex(&key_map, id, 0, &crowded))
        return id;
    if (crowded) {
        /* Full here for good (nothing is removed): the key id is its content's hash, right
         * without the table, so the key stays traced, only without its text (no repr and no
         * KEY record per access). */
        ngr_acc_table_full(&key_full, "key table full (" CAP_TXT " entries): dict keys first "
                           "seen from now on are traced without their text (<key 0x...>)");
        return id;
    }
    PyObject *r = PyObject_Repr(key); /* repr of exact str/int/bytes/tuple: C code only */
    const char *s = r ? PyUnicode_AsUTF8(r) : NULL;
    if (!s) {
        PyErr_Clear();
        Py_XDECREF(r);
        return id;
    }
    size_t len = strlen(s);
    char buf[160];
    if (len > 150) {
        snprintf(buf, sizeof buf, "%.140s...", s);
        s = buf;
        len = strlen(buf);
    }
    unsigned kind = PyUnicode_CheckExact(key) ? NGR_KEY_STR : PyLong_CheckExact(key) ? NGR_KEY_INT
                    : PyBytes_CheckExact(key) ? NGR_KEY_BYTES : PyTuple_CheckExact(key) ? NGR_KEY_TUPLE
                    : NGR_KEY_OTHER;
    ngr_spin_lock(&key_map.lock);
    bool fresh;
    struct slot *ks = map_slot_locked(&key_map, id, 0, &fresh);
    if (ks && fresh) {
        ngr_define_key(id, kind, ngr_intern_string(s, len));
        map_publish_locked(ks, id, 0, 1);
    }
    ngr_spin_unlock(&key_map.lock);
    if (!ks)
        ngr_acc_table_full(&key_full, "key table full (" CAP_TXT " entries): dict keys first "
                           "seen from now on are traced without their text (<key 0x...>)");
    Py_DECREF(r);
    return id;
}
