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

static int watcher_id = -1;

/* The namespaces we watch: dict → (name, kind).  A small table: modules and classes only. */
#define NS_MAX 8192
struct ns { PyObject *dict; const char *name; unsigned kind; };
static struct ns ns_table[NS_MAX];
static _Atomic int ns_count;
static ngr_spin ns_lock;

static const struct ns *ns_find(PyObject *dict)
{
    int n = atomic_load_explicit(&ns_count, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (ns_table[i].dict == dict)
            return &ns_table[i];
    return NULL;
}

/* Track a value stored under `name` and give locks their names. */
static void note_value(PyObject *value, const char *full)
{
    if (!value)
        return;
    ngr_sync_name_hint(value, full);
    if (PyType_Check(value))
        ngr_watch_class((PyTypeObject *)value);
    else
        ngr_vars_track(value, full);
}

static int on_dict_event(PyDict_WatchEvent ev, PyObject *dict, PyObject *key, PyObject *new_value)
{
    if (atomic_load_explicit(&ngr_acc_off, memory_order_relaxed) || !ngr_tracing())
        return 0;
    if (ev == PyDict_EVENT_DEALLOCATED || ev == PyDict_EVENT_CLEARED || ev == PyDict_EVENT_CLONED)
        return 0;
    if (!key || !PyUnicode_CheckExact(key))
        return 0;
    Py_ssize_t klen;
    const char *ks = PyUnicode_AsUTF8AndSize(key, &klen);
    if (!ks || (klen > 4 && ks[0] == '_' && ks[1] == '_' && ks[klen - 1] == '_' && ks[klen - 2] == '_')) {
        PyErr_Clear();
        return 0; /* __file__, __doc__, __dict__ ...: interpreter bookkeeping, not program state */
    }
    const struct ns *ns = ns_find(dict);
    if (!ns)
        return 0;
    PyObject *exc = PyErr_GetRaisedException(); /* a watcher must leave the error state alone */
    uint32_t var = ngr_vars_named(dict, key, ns->name, ns->kind);
    ngr_vframe *f = ngr_v_current_frame();
    unsigned kind = ev == PyDict_EVENT_DELETED ? NGR_ACC_DELETE : NGR_ACC_WRITE;
    if (f)
        ngr_acc_emit(f, -1, kind, var, 0);
    else
        ngr_emit_access(kind, var, 0, 0, 0);
    if (ev == PyDict_EVENT_MODIFIED || ev == PyDict_EVENT_DELETED) {
        PyObject *old = PyDict_GetItemWithError(dict, key); /* borrowed, exact str key */
        if (old && old != new_value)
            ngr_vars_untrack(old);
    }
    if (new_value) {
        const char *k = PyUnicode_AsUTF8(key);
        if (k) {
            char full[512];
            snprintf(full, sizeof full, "%s.%s", ns->name, k);
            note_value(new_value, full);
        }
    }
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return 0;
}

int ngr_watch_init(void)
{
    watcher_id = PyDict_AddWatcher(on_dict_event);
    return watcher_id < 0 ? (PyErr_Clear(), -1) : 0;
}

/* Register dict under `name`, watch it, and note the values it already holds. */
static void watch_ns(PyObject *dict, const char *name, unsigned kind)
{
    if (!dict || !PyDict_Check(dict) || !name || watcher_id < 0 || ns_find(dict))
        return;
    ngr_spin_lock(&ns_lock);
    int n = atomic_load_explicit(&ns_count, memory_order_relaxed);
    bool added = false;
    if (!ns_find(dict) && n < NS_MAX) {
        ns_table[n] = (struct ns){dict, strdup(name), kind};
        atomic_store_explicit(&ns_count, n + 1, memory_order_release);
        added = true;
    }
    ngr_spin_unlock(&ns_lock);
    if (!added)
        return;
    if (PyDict_Watch(watcher_id, dict) < 0)
        PyErr_Clear();
    /* Values stored before we watched: snapshot the items (a copy, so no iteration races). */
    PyObject *items = PyDict_Items(dict);
    if (!items) {
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        PyObject *k = PyTuple_GET_ITEM(kv, 0), *v = PyTuple_GET_ITEM(kv, 1);
        const char *ks = PyUnicode_CheckExact(k) ? PyUnicode_AsUTF8(k) : NULL;
        if (!ks || (ks[0] == '_' && ks[1] == '_'))
            continue; /* dunder entries: __builtins__, __dict__ ... are not program state */
        char full[512];
        snprintf(full, sizeof full, "%s.%s", name, ks);
        note_value(v, full);
    }
    PyErr_Clear();
    Py_DECREF(items);
}

void ngr_watch_module_dict(PyObject *globals)
{
    if (ns_find(globals))
        return;
    const char *m = ngr_vars_module_name(globals);
    if (m && ngr_module_wanted(m))
        watch_ns(globals, m, NGR_VAR_GLOBAL);
}

void ngr_watch_class(PyTypeObject *tp)
{
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !tp->tp_dict || ns_find(tp->tp_dict))
        return;
    const char *n = ngr_vars_class_name(tp);
    if (n && *n)
        watch_ns(tp->tp_dict, n, NGR_VAR_CLASS_ATTR);
}
