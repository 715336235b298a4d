/* watch.c — writes to module globals and class attributes, from anywhere.
 *
 * A dict watcher on each traced module's globals and each traced class's __dict__ sees every
 * store and delete (STORE_GLOBAL, `mod.x = v`, `globals()[k] = v`, setattr, `Cls.x = v`, C code),
 * synchronously in the writing thread, before the change.  The value being stored is how objects
 * become tracked (one step of reach) and how locks get their names (`app.lock`).
 */
#include "acc.h"
#include "sync.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

NGR_HIDDEN _Atomic uint32_t ngr_globals_epoch;

static int watcher_id = -1;
static PyObject *modules_dict; /* sys.modules, watched for new modules */

/* The namespaces we watch: dict → (name, kind), in an open-addressing table read without locks
 * (every write to a watched dict looks here).  A namespace that is deallocated leaves a tombstone
 * (dict = 1) so that a later dict at the same address starts afresh; inserts reuse tombstones.
 * A lookup probes at most NS_PROBES slots (every write to any watched dict, also the untraced
 * modules' ones watched for their deallocation, ends here: it must stay short however full the
 * table is).  A namespace that finds no room in the primary table goes to a spill table, mapped
 * on first need (a program with fewer namespaces touches none of its pages); one that finds no
 * room in either is not traced, and one warning note says so. */
#define NS_SLOTS 16384u
#define NS_SPILL_SLOTS 65536u
#define NS_PROBES 128u
struct ns { _Atomic(PyObject *) dict; const char *name; unsigned kind; };
static struct ns ns_table[NS_SLOTS];
static _Atomic(struct ns *) ns_spill;
static ngr_spin ns_lock;
static _Atomic int ns_full;
#define NS_TOMB ((PyObject *)1)

/* One table's window for dict: its entry, else NULL with *room = the slot an insert would take
 * (first tombstone, else the empty slot ending the window, else NULL); *crowded = no empty
 * slot in the window.  Empty slots never come back, so a window that reaches one proves the
 * dict is not in the spill table. */
static struct ns *ns_probe(struct ns *t, unsigned slots, PyObject *dict, struct ns **room, bool *crowded)
{
    uint64_t h = (uint64_t)(uintptr_t)dict * 0x9e3779b97f4a7c15ull;
    unsigned i = (unsigned)(h >> 40) & (slots - 1);
    *room = NULL;
    *crowded = false;
    for (unsigned probe = 0; probe < NS_PROBES; probe++, i = (i + 1) & (slots - 1)) {
        PyObject *d = atomic_load_explicit(&t[i].dict, memory_order_acquire);
        if (d == dict)
            return &t[i];
        if (d == NS_TOMB && !*room)
            *room = &t[i];
        if (!d) {
            if (!*room)
                *room = &t[i];
            return NULL;
        }
    }
    *crowded = true;
    return NULL;
}

/* The entry of dict, or NULL; *room (if given): whether an insert could find a slot (or make
 * the spill table): when not, no lock is worth taking. */
static struct ns *ns_find_ex(PyObject *dict, bool *room)
{
    struct ns *r, *e;
    bool crowded, can_add;
    e = ns_probe(ns_table, NS_SLOTS, dict, &r, &crowded);
    can_add = r != NULL;
    if (!e && crowded) {
        struct ns *sp = atomic_load_explicit(&ns_spill, memory_order_acquire), *sr;
        if (sp) {
            e = ns_probe(sp, NS_SPILL_SLOTS, dict, &sr, &crowded);
            can_add |= sr != NULL;
        } else {
            can_add = true; /* the spill table is still to be made */
        }
    }
    if (room)
        *room = can_add;
    return e;
}

static struct ns *ns_find(PyObject *dict)
{
    return ns_find_ex(dict, NULL);
}

/* Under ns_lock, dict not in the table: a slot for it (an empty one or a tombstone, in the
 * primary table, else in the spill table, made now if need be), NULL when full. */
static struct ns *ns_add_locked(PyObject *dict, const char *name, unsigned kind)
{
    struct ns *r;
    bool crowded;
    ns_probe(ns_table, NS_SLOTS, dict, &r, &crowded);
    if (!r) {
        struct ns *sp = atomic_load_explicit(&ns_spill, memory_order_relaxed);
        if (!sp) {
            void *p = mmap(NULL, NS_SPILL_SLOTS * sizeof(struct ns), PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p == MAP_FAILED)
                return NULL;
            sp = p;
            atomic_store_explicit(&ns_spill, sp, memory_order_release);
        }
        ns_probe(sp, NS_SPILL_SLOTS, dict, &r, &crowded);
        if (!r)
            return NULL;
    }
    r->name = name;
    r->kind = kind;
    atomic_store_explicit(&r->dict, dict, memory_order_release);
    return r;
}

/* Untrack what a namespace holds (it is being cleared or freed: its values may be freed next and
 * their addresses reused by unrelated objects).  Its binding entries go too (an entry holding
 * nothing and no entry mean the same), so that namespaces made and freed over a long run do not
 * fill the table — also those a cycle collection frees, which clears them before the free.  A
 * store racing with a clear() of the same namespace in another thread can lose its binding:
 * that object then stays tracked after its rebinding.  PyDict_Next compares nothing: no user
 * code. */
static void untrack_values(PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(dict, &pos, &k, &v)) {
        if (PyUnicode_CheckExact(k))
            ngr_vars_held_forget(dict, k);
        ngr_vars_untrack(v);
    }
}

/* Track a value stored under dict[key] (named `full`) and give locks their names; an object
 * tracked before under that slot and now replaced is untracked (it may be freed next). */
static void note_value(PyObject *dict, PyObject *key, PyObject *value, const char *full)
{
    bool tracked = false;
    if (value) {
        ngr_sync_name_hint(value, full);
        if (PyType_Check(value))
            ngr_watch_class((PyTypeObject *)value);
        else
            tracked = ngr_vars_track(value, full);
    }
    uintptr_t old = ngr_vars_held_swap(dict, key, tracked ? (uintptr_t)value : 0);
    if (old == NGR_HELD_FULL) {
        /* nothing could untrack it when it is rebound (and maybe freed): not traced */
        ngr_vars_untrack(value);
        return;
    }
    if (old && old != (uintptr_t)value)
        ngr_vars_untrack((PyObject *)old);
}

/* Is the calling frame the body of the module whose globals `dict` is (a module defining or
 * redefining its own names: `f = wraps(g)(f)`, a reload), rather than a patch from elsewhere? */
static bool own_body(PyObject *dict)
{
    ngr_vframe *f = ngr_v_current_frame();
    PyCodeObject *co = f ? ngr_v_frame_code(f) : NULL;
    return co && ngr_v_frame_globals(f) == dict && (co->co_flags & CO_OPTIMIZED) == 0 &&
           PyUnicode_CheckExact(co->co_name) && PyUnicode_CompareWithASCIIString(co->co_name, "<module>") == 0;
}

/* 3.15: the first use of a lazy import (in any thread) replaces its placeholder by the imported
 * object: CPython's own synchronised work, not a write of the program's.  The watcher runs before
 * the change, so the dict still holds the placeholder. */
static bool replaces_lazy_import(PyObject *dict, PyObject *key)
{
    if (!ngr_v_has_lazy_imports())
        return false;
    int unsafe = 0;
    PyObject *old = ngr_v_dict_get_str(dict, key, &unsafe);
    return old && ngr_v_is_lazy_import(old);
}

/* Values that are neither containers, objects, classes nor locks: the common case of a write. */
static bool plain_value(PyObject *v)
{
    return v == Py_None || PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyUnicode_CheckExact(v) ||
           PyBool_Check(v) || PyBytes_CheckExact(v) || PyTuple_CheckExact(v) || PyComplex_CheckExact(v) ||
           PyFunction_Check(v);
}

static void dict_event(PyDict_WatchEvent ev, PyObject *dict, PyObject *key, PyObject *new_value,
                       struct ns *ns)
{
    if (ev == PyDict_EVENT_DEALLOCATED) {
        /* Whatever the tracing state (a trace finished for an exec that then fails and resumes,
         * finalisation): the address is about to be reused, and nothing cached under it may
         * outlive the dict. */
        ngr_vars_forget_ns(dict);
        if (!ns)
            return;
        if (ns->kind == NGR_VAR_GLOBAL)
            atomic_fetch_add_explicit(&ngr_globals_epoch, 1, memory_order_release);
        if (!atomic_load_explicit(&ngr_acc_off, memory_order_relaxed) && ngr_tracing())
            untrack_values(dict);
        atomic_store_explicit(&ns->dict, NS_TOMB, memory_order_release);
        return;
    }
    if (!ns && dict != modules_dict)
        return;
    if (atomic_load_explicit(&ngr_acc_off, memory_order_relaxed) || !ngr_tracing())
        return;
    if (ev == PyDict_EVENT_CLEARED || ev == PyDict_EVENT_CLONED) {
        if (!ns)
            return;
        untrack_values(dict);
        return;
    }
    if (!key || !PyUnicode_CheckExact(key))
        return;
    if (dict == modules_dict) {
        /* A module is being imported (its body has not run yet): watch its globals from the
         * first store on.  Anything else put in sys.modules is left alone. */
        if (new_value && PyModule_Check(new_value) &&
            (ev == PyDict_EVENT_ADDED || ev == PyDict_EVENT_MODIFIED)) {
            PyObject *md = PyModule_GetDict(new_value); /* borrowed */
            if (md)
                ngr_watch_module_dict(md);
        }
        return;
    }
    Py_ssize_t klen;
    const char *ks = PyUnicode_AsUTF8AndSize(key, &klen);
    if (!ks || (klen > 4 && ks[0] == '_' && ks[1] == '_' && ks[klen - 1] == '_' && ks[klen - 2] == '_'))
        return; /* __file__, __doc__, __dict__ ...: interpreter bookkeeping, not program state */
    const char *ns_name = ns->name;
    unsigned ns_kind = ns->kind;
    if (new_value && ngr_is_definition(new_value)) {
        /* `def f`, `class C`, `import m`: code, not state (their reads are not traced either);
         * no record, no variable — most module globals are these.  A class is still watched.
         * Rebinding one from elsewhere than the module's own body is a patch (patches.c). */
        if (PyType_Check(new_value))
            ngr_watch_class((PyTypeObject *)new_value);
        if (ev == PyDict_EVENT_MODIFIED && !own_body(dict) && !replaces_lazy_import(dict, key)) {
            uint32_t var = ngr_vars_named(dict, key, ns_name, ns_kind);
            ngr_vframe *f = ngr_v_current_frame();
            if (f)
                ngr_acc_emit(f, -1, NGR_ACC_WRITE, var, 0);
            else if (var)
                ngr_emit_access(NGR_ACC_WRITE, var, 0, 0, 0);
            ngr_patch_written(var);
        }
        uintptr_t old = ngr_vars_held_swap(dict, key, 0);
        if (old)
            ngr_vars_untrack((PyObject *)old);
        return;
    }
    if (!(ev == PyDict_EVENT_MODIFIED && replaces_lazy_import(dict, key))) {
        uint32_t var = ngr_vars_named(dict, key, ns_name, ns_kind); /* 0: no room, not traced */
        ngr_vframe *f = ngr_v_current_frame();
        unsigned kind = ev == PyDict_EVENT_DELETED ? NGR_ACC_DELETE : NGR_ACC_WRITE;
        if (f)
            ngr_acc_emit(f, -1, kind, var, 0);
        else if (var)
            ngr_emit_access(kind, var, 0, 0, 0);
    }
    if (!new_value || plain_value(new_value)) {
        /* nothing to track or name: only forget what the slot held */
        uintptr_t old = ngr_vars_held_swap(dict, key, 0);
        if (old)
            ngr_vars_untrack((PyObject *)old);
    } else {
        char full[512];
        snprintf(full, sizeof full, "%s.%s", ns_name, ks);
        note_value(dict, key, new_value, full);
    }
}

static int on_dict_event(PyDict_WatchEvent ev, PyObject *dict, PyObject *key, PyObject *new_value)
{
    /* First the table: most watched dicts are untraced modules' globals, watched only for their
     * deallocation (ngr_watch_lifetime); their writes end here, after one probe. */
    struct ns *ns = dict == modules_dict ? NULL : ns_find(dict);
    if (!ns && dict != modules_dict && ev != PyDict_EVENT_DEALLOCATED)
        return 0;
    /* A watcher runs inside the program's mutation, maybe while an exception propagates (3.14
     * deletes __main__.__file__ with the script's SystemExit pending): the exception is the
     * program's, whatever we do here. */
    PyObject *exc = PyErr_GetRaisedException();
    dict_event(ev, dict, key, new_value, ns);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return 0;
}

int ngr_watch_init(void)
{
    watcher_id = PyDict_AddWatcher(on_dict_event);
    if (watcher_id < 0) {
        PyErr_Clear();
        return -1;
    }
    PyObject *mods = PyImport_GetModuleDict(); /* borrowed */
    if (mods && PyDict_Check(mods) && PyDict_Watch(watcher_id, mods) == 0)
        modules_dict = mods;
    PyErr_Clear();
    return 0;
}

bool ngr_watch_lifetime(PyObject *dict)
{
    if (watcher_id < 0 || !dict || !PyDict_Check(dict))
        return false;
    /* PyDict_Watch sets a bit of ma_version_tag with a plain read-modify-write, and every
     * mutation rewrites the tag (from the value it read) under the dict's critical section: a
     * store in another thread at the same moment would drop the bit, and with it the eviction.
     * The same critical section orders the two (a no-op with the GIL).  Once per dict. */
    int rc;
    Py_BEGIN_CRITICAL_SECTION(dict);
    rc = PyDict_Watch(watcher_id, dict);
    Py_END_CRITICAL_SECTION();
    if (rc < 0) {
        PyErr_Clear();
        return false;
    }
    return true;
}

/* Register dict under `name` (kept for good by vars.c: interned, never freed), watch it, and
 * note the values it already holds.  True when it is watched (now or before). */
static bool watch_ns(PyObject *dict, const char *name, unsigned kind)
{
    if (!dict || !PyDict_Check(dict) || !name || watcher_id < 0)
        return false;
    bool room;
    if (ns_find_ex(dict, &room))
        return true;
    bool had = false, added = false;
    if (room) { /* full: re-decided by the probe alone, no lock, no allocation */
        ngr_spin_lock(&ns_lock);
        had = ns_find(dict) != NULL;
        added = !had && ns_add_locked(dict, name, kind);
        ngr_spin_unlock(&ns_lock);
    }
    if (!added) {
        if (!had)
            ngr_acc_table_full(&ns_full, "namespace table full (81920 entries): modules and "
                               "classes first seen from now on are not traced");
        return had;
    }
    ngr_watch_lifetime(dict);
    /* Values stored before we watched: snapshot the items (a copy, so no iteration races). */
    PyObject *items = PyDict_Items(dict);
    if (!items) {
        PyErr_Clear();
        return true;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        PyObject *k = PyTuple_GET_ITEM(kv, 0), *v = PyTuple_GET_ITEM(kv, 1);
        const char *ks = PyUnicode_CheckExact(k) ? PyUnicode_AsUTF8(k) : NULL;
        if (!ks || (ks[0] == '_' && ks[1] == '_'))
            continue; /* dunder entries: __builtins__, __dict__ ... are not program state */
        char full[512];
        snprintf(full, sizeof full, "%s.%s", name, ks);
        note_value(dict, k, v, full);
    }
    PyErr_Clear();
    Py_DECREF(items);
    return true;
}

bool ngr_watch_module_dict(PyObject *globals)
{
    if (ns_find(globals))
        return true;
    const char *m = ngr_vars_module_name(globals);
    return m && ngr_module_wanted(m) && watch_ns(globals, m, NGR_VAR_GLOBAL);
}

bool ngr_watch_class(PyTypeObject *tp)
{
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !tp->tp_dict)
        return false;
    if (ns_find(tp->tp_dict))
        return true;
    const char *n = ngr_vars_class_name(tp);
    return n && *n && watch_ns(tp->tp_dict, n, NGR_VAR_CLASS_ATTR);
}
