/* vars.c — variable ids and names, tracked objects, dict-key ids.
 *
 * All lookups are lock-free reads of open-addressing tables in anonymous mappings (untouched
 * pages cost nothing); a miss takes one spinlock, defines the thing in the trace and publishes
 * it.  Nothing here runs Python code: names come from exact str objects, hashes of exact
 * str/int/bytes (and tuples of those) only, reprs of those exact types only.
 */
#include "acc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- a lock-free map: (k1, k2) → value ------------------------------------------------------ */
#define MAP_SLOTS (1u << 14)
struct slot {
    _Atomic uint64_t k1; /* 0 = empty */
    _Atomic uint64_t k2;
    _Atomic uint64_t val;
};
struct map {
    struct slot *s;
    ngr_spin lock;
};
static struct map var_map, tracked_map, key_map, name_map, held_map;

static int map_init(struct map *m)
{
    void *p = mmap(NULL, MAP_SLOTS * sizeof(struct slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    m->s = p;
    return 0;
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

/* Find (k1, k2); returns the slot, or NULL.  k1 must not be 0 or MAP_TOMB. */
static struct slot *map_find(struct map *m, uint64_t k1, uint64_t k2)
{
    uint32_t mask = MAP_SLOTS - 1, i = (uint32_t)hash2(k1, k2) & mask;
    for (unsigned probe = 0; probe < 128; probe++, i = (i + 1) & mask) {
        uint64_t a = atomic_load_explicit(&m->s[i].k1, memory_order_acquire);
        if (a == 0)
            return NULL;
        if (a == k1 && atomic_load_explicit(&m->s[i].k2, memory_order_relaxed) == k2)
            return &m->s[i];
    }
    return NULL;
}

/* Insert under m->lock (caller holds it); returns the slot (existing or new), NULL when full.
 * A slot is filled k2, val, then k1 (release): a reader that sees the key sees the rest. */
static struct slot *map_put_locked(struct map *m, uint64_t k1, uint64_t k2, uint64_t val)
{
    uint32_t mask = MAP_SLOTS - 1, i = (uint32_t)hash2(k1, k2) & mask;
    struct slot *tomb = NULL;
    for (unsigned probe = 0; probe < 128; probe++, i = (i + 1) & mask) {
        uint64_t a = atomic_load_explicit(&m->s[i].k1, memory_order_relaxed);
        if (a == k1 && atomic_load_explicit(&m->s[i].k2, memory_order_relaxed) == k2) {
            atomic_store_explicit(&m->s[i].val, val, memory_order_release);
            return &m->s[i];
        }
        if (a == MAP_TOMB && !tomb)
            tomb = &m->s[i];
        if (a == 0)
            break;
        if (probe == 127 && !tomb)
            return NULL;
    }
    struct slot *s = tomb ? tomb : &m->s[i];
    atomic_store_explicit(&s->k2, k2, memory_order_relaxed);
    atomic_store_explicit(&s->val, val, memory_order_relaxed);
    atomic_store_explicit(&s->k1, k1, memory_order_release);
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
    if (map_init(&var_map) || map_init(&tracked_map) || map_init(&key_map) || map_init(&name_map) ||
        map_init(&held_map))
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

static const char *str_utf8(PyObject *s)
{
    if (!s || !PyUnicode_CheckExact(s))
        return NULL;
    const char *u = PyUnicode_AsUTF8(s);
    if (!u)
        PyErr_Clear();
    return u;
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
 * Under name_map.lock; a 64-bit hash collision of two different names falls back to a copy. */
#define NAME_STR 0x6e616d65u /* k2 of the name copies, apart from 1 (dicts), 2 (types), 3+kind */

static uint64_t cstr_hash(const char *p);

static const char *intern_name_locked(const char *n)
{
    uint64_t k1 = cstr_hash(n) | 1;
    struct slot *s = map_find(&name_map, k1, NAME_STR);
    const char *had = s ? (const char *)(uintptr_t)atomic_load_explicit(&s->val, memory_order_relaxed) : NULL;
    if (had && !strcmp(had, n))
        return had;
    const char *kept = keep(n);
    if (kept && !had)
        map_put_locked(&name_map, k1, NAME_STR, (uint64_t)(uintptr_t)kept);
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
    /* Watched once cached (a full map caches nothing: no watching each time).  The dict is alive
     * for our caller meanwhile.  Watching cannot fail with the watcher registered, but an entry
     * nothing would evict is the bug this avoids: then it goes. */
    if (s && !ngr_watch_lifetime(globals))
        atomic_store_explicit(&s->val, 0, memory_order_release);
    return kept;
}

/* Stdlib modules whose own objects are synchronisation machinery, reported as such, not as state. */
static bool sync_module(const char *m)
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
        if (mod && qual && !sync_module(mod)) {
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
    if (!s)
        map_put_locked(&held_map, k1, k2, value);
    ngr_spin_unlock(&held_map.lock);
    return old;
}

uint32_t ngr_vars_named(PyObject *ns, PyObject *name, const char *ns_name, unsigned kind)
{
    if (!ns || !name || !PyUnicode_CheckExact(name) || !ns_name)
        return 0;
    Py_hash_t h = PyObject_Hash(name); /* exact str: cached, no user code */
    /* The namespace's name is part of the key: a freed module or class dict's address can come
     * back as another namespace, whose variables must not inherit the old names. */
    uint64_t k1 = (uint64_t)(uintptr_t)ns, k2 = (uint64_t)h ^ cstr_hash(ns_name);
    struct slot *s = map_find(&var_map, k1, k2);
    if (s)
        return (uint32_t)atomic_load_explicit(&s->val, memory_order_acquire);
    const char *n = str_utf8(name);
    if (!n)
        return 0;
    char full[512];
    snprintf(full, sizeof full, "%s.%s", ns_name, n);
    ngr_spin_lock(&var_map.lock);
    s = map_find(&var_map, k1, k2);
    uint32_t id = s ? (uint32_t)atomic_load_explicit(&s->val, memory_order_relaxed) : 0;
    if (!id) {
        id = define(full, kind, 0);
        map_put_locked(&var_map, k1, k2, id);
    }
    ngr_spin_unlock(&var_map.lock);
    return id;
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
    return (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && ngr_vars_is_class_of_wanted(tp);
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
                    PyByteArray_Check(obj) || is_deque(Py_TYPE(obj)) ? NGR_VAR_CONTAINER : NGR_VAR_OBJ_ATTR;
    /* One variable per name: `cache = {}` rebinding app.cache to a new dict keeps the variable
     * (what users read in the report), and repeated rebinding does not grow the metadata. */
    uint64_t nk = cstr_hash(name) | 1;
    ngr_spin_lock(&tracked_map.lock);
    struct slot *ns = map_find(&name_map, nk, 3 + kind);
    uint32_t id = ns ? (uint32_t)atomic_load_explicit(&ns->val, memory_order_relaxed) : 0;
    if (!id) {
        id = define(name, kind, 0);
        ngr_spin_lock(&name_map.lock);
        map_put_locked(&name_map, nk, 3 + kind, id);
        ngr_spin_unlock(&name_map.lock);
    }
    s = map_find(&tracked_map, k1, k2);
    if (!s || !atomic_load_explicit(&s->val, memory_order_relaxed))
        map_put_locked(&tracked_map, k1, k2, id);
    ngr_spin_unlock(&tracked_map.lock);
    if (kind == NGR_VAR_OBJ_ATTR) {
        /* Its __dict__ (materialised now, before other threads use it through us): code that
         * works on the dict directly — functools.cached_property, vars(obj)[k], __dict__.update —
         * touches the same attributes, reported as app.OBJ.<key>. */
        PyObject *d = instance_dict(obj);
        if (d) {
            ngr_spin_lock(&tracked_map.lock);
            map_put_locked(&tracked_map, (uint64_t)(uintptr_t)d, 1, (uint64_t)(uintptr_t)obj);
            ngr_spin_unlock(&tracked_map.lock);
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

void ngr_vars_untrack(PyObject *obj)
{
    if (!obj)
        return;
    struct slot *s = map_find(&tracked_map, (uint64_t)(uintptr_t)obj, (uint64_t)(uintptr_t)Py_TYPE(obj));
    if (s && atomic_load_explicit(&s->val, memory_order_acquire)) {
        atomic_store_explicit(&s->val, 0, memory_order_release);
        PyObject *d = instance_dict(obj);
        if (d) {
            struct slot *ds = map_find(&tracked_map, (uint64_t)(uintptr_t)d, 1);
            if (ds)
                atomic_store_explicit(&ds->val, 0, memory_order_release);
            Py_DECREF(d);
        }
    }
}

PyObject *ngr_vars_dict_owner(PyObject *dict)
{
    struct slot *s = map_find(&tracked_map, (uint64_t)(uintptr_t)dict, 1);
    return s ? (PyObject *)(uintptr_t)atomic_load_explicit(&s->val, memory_order_acquire) : NULL;
}

uint32_t ngr_vars_tracked(PyObject *obj)
{
    struct slot *s = map_find(&tracked_map, (uint64_t)(uintptr_t)obj, (uint64_t)(uintptr_t)Py_TYPE(obj));
    return s ? (uint32_t)atomic_load_explicit(&s->val, memory_order_acquire) : 0;
}

const char *ngr_vars_tracked_name(PyObject *obj)
{
    uint32_t id = ngr_vars_tracked(obj);
    return id && id < MAX_NAMED ? atomic_load_explicit(&var_names[id], memory_order_acquire) : NULL;
}

uint32_t ngr_vars_attr(PyObject *obj, PyObject *attr)
{
    const char *base = ngr_vars_tracked_name(obj);
    return base ? ngr_vars_named(obj, attr, base, NGR_VAR_OBJ_ATTR) : 0;
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
    if (map_find(&key_map, id, 0))
        return id;
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
    if (!map_find(&key_map, id, 0)) {
        ngr_define_key(id, kind, ngr_intern_string(s, len));
        map_put_locked(&key_map, id, 0, 1);
    }
    ngr_spin_unlock(&key_map.lock);
    Py_DECREF(r);
    return id;
}
