/* shared.c — objects shared between threads, at any depth: which they are, and what they are called.
 *
 * Module state is traced from the start (vars.c's tracked objects).  Everything else — the
 * TestCase instance pytest-run-parallel runs in N threads, an object passed to a thread or
 * captured by its closure, `APP.stats` two steps from a global, a dict an executor's tasks fill —
 * is traced from the moment a second thread touches it: an object only ever used by the thread
 * that made it costs nothing and is never recorded.  The first cross-thread touch makes the object
 * a variable of its own (its var id is the generation: attributes and items hang under it) and
 * from then on every access to it, by any thread, is recorded.
 *
 * Who made it: free-threaded builds keep the owning thread in every object header (ob_tid, for
 * biased reference counting; ngr_v_owned_by_caller), so an access by the owner is told from
 * another thread's with one compare, and a table entry is made only when the object is shared.
 * Default builds keep no owner: the first thread to touch an object is remembered instead.
 *
 * The table is 4-way set associative by address (a set is one cache line), lock-free to read;
 * entries are made under a per-set spinlock.  A full set gives its oldest way to the newcomer: a
 * forgotten object that is touched again starts as a new one (a new variable: races spanning the
 * eviction are missed, none is invented).  An object's death must end its entry, or the next
 * object at that address would be taken for it (two unrelated lists as one variable: false
 * races).  The built-in containers' deallocators are wrapped (PyDict_Type's, PyList_Type's ...
 * tp_dealloc, as the lock types' are in sync.c): one probe of the set per freed container.
 * Objects of classes get a weak reference whose callback ends the entry, made when they are first
 * shared (an extra weak reference the program could count: weakref.getweakrefcount); objects
 * whose death cannot be seen (classes whose __slots__ leave out __weakref__, list and dict
 * iterators) are not taken as shared at all.  A first-touch entry (default builds) is not ended by
 * a death: it keeps the type, so that only a successor of the same type at the address can be
 * taken for it — which then counts as shared from its first touch by another thread, a cost, not
 * a false race (it gets a variable of its own).
 *
 * Names: an object of a class by its class ("app.Stats()"); a container by where it was stored
 * (ngr_shared_hint: `self.settings = {...}` names the dict "app.Config().settings"), else by its
 * type ("<dict>"); a closure's cell by the function owning the variable (cells.c).
 *
 * Cells (closure variables, cells.c) are shared objects too: their death is seen through their
 * deallocator, wrapped as the containers' are.
 */
#include "acc.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define SH_SETS (1u << 16)
#define SH_WAYS 4u
#define SH_LOCKS 256u

struct sh_ent {
    _Atomic uintptr_t addr; /* 0 = free */
    _Atomic uintptr_t type; /* a first-touch entry outlives its object unseen: a successor of
                               another type at the address is not taken for it */
    _Atomic uint32_t var;   /* the object's variable once shared, else 0 */
    _Atomic uint32_t owner; /* default builds: thread number of the first toucher */
};
struct sh_set {
    struct sh_ent e[SH_WAYS];
} __attribute__((aligned(32)));

static struct sh_set *sets;
static _Atomic uint32_t victim; /* the way a full set gives up next (any order will do) */
static ngr_spin set_locks[SH_LOCKS];

/* ---- hints: where an object was stored ------------------------------------------------------- */

#define HINT_SLOTS (1u << 14)
struct hint { _Atomic uintptr_t addr, type; _Atomic(const char *) name; };
static struct hint *hints;

static inline uint32_t addr_hash(uintptr_t a)
{
    return (uint32_t)((a >> 4) * 0x9e3779b97f4a7c15ull >> 40);
}

void ngr_shared_hint(PyObject *obj, const char *name)
{
    if (!hints || !name)
        return;
    struct hint *h = &hints[addr_hash((uintptr_t)obj) & (HINT_SLOTS - 1)];
    /* given already (a closure's owner storing into its cell again and again): no store, so that
     * the line stays clean in the other cores' caches */
    if (atomic_load_explicit(&h->addr, memory_order_relaxed) == (uintptr_t)obj &&
        atomic_load_explicit(&h->name, memory_order_relaxed) == name &&
        atomic_load_explicit(&h->type, memory_order_relaxed) == (uintptr_t)Py_TYPE(obj))
        return;
    /* name stored before the key: a reader that sees the key sees a name (of this or a newer
     * hint at the same slot: a wrong name at worst, never a dangling one — names are interned) */
    atomic_store_explicit(&h->name, name, memory_order_relaxed);
    atomic_store_explicit(&h->type, (uintptr_t)Py_TYPE(obj), memory_order_relaxed);
    atomic_store_explicit(&h->addr, (uintptr_t)obj, memory_order_release);
}

static const char *hint_of(PyObject *obj)
{
    struct hint *h = &hints[addr_hash((uintptr_t)obj) & (HINT_SLOTS - 1)];
    if (atomic_load_explicit(&h->addr, memory_order_acquire) != (uintptr_t)obj ||
        atomic_load_explicit(&h->type, memory_order_relaxed) != (uintptr_t)Py_TYPE(obj))
        return NULL;
    return atomic_load_explicit(&h->name, memory_order_relaxed);
}

/* ---- the table ----------------------------------------------------------------------------- */

static struct sh_ent *find(struct sh_set *s, PyObject *obj)
{
    for (unsigned w = 0; w < SH_WAYS; w++)
        if (atomic_load_explicit(&s->e[w].addr, memory_order_acquire) == (uintptr_t)obj &&
            atomic_load_explicit(&s->e[w].type, memory_order_relaxed) == (uintptr_t)Py_TYPE(obj))
            return &s->e[w];
    return NULL;
}

/* Under the set's lock: a way for obj (a free one, else the next in turn), emptied. */
static struct sh_ent *take_locked(struct sh_set *s)
{
    struct sh_ent *e = NULL;
    for (unsigned w = 0; w < SH_WAYS && !e; w++)
        if (!atomic_load_explicit(&s->e[w].addr, memory_order_relaxed))
            e = &s->e[w];
    if (!e)
        e = &s->e[atomic_fetch_add_explicit(&victim, 1, memory_order_relaxed) % SH_WAYS];
    atomic_store_explicit(&e->addr, 0, memory_order_release);
    atomic_store_explicit(&e->var, 0, memory_order_relaxed);
    return e;
}

static void publish_locked(struct sh_ent *e, PyObject *obj, uint32_t var, uint32_t owner)
{
    atomic_store_explicit(&e->var, var, memory_order_relaxed);
    atomic_store_explicit(&e->owner, owner, memory_order_relaxed);
    atomic_store_explicit(&e->type, (uintptr_t)Py_TYPE(obj), memory_order_relaxed);
    atomic_store_explicit(&e->addr, (uintptr_t)obj, memory_order_release);
}

/* ---- death ---------------------------------------------------------------------------------- */

static void forget(uintptr_t addr, uint32_t var)
{
    struct sh_set *s = &sets[addr_hash(addr) & (SH_SETS - 1)];
    ngr_spin *l = &set_locks[addr_hash(addr) % SH_LOCKS];
    ngr_spin_lock(l);
    for (unsigned w = 0; w < SH_WAYS; w++)
        if (atomic_load_explicit(&s->e[w].addr, memory_order_relaxed) == addr &&
            (!var || atomic_load_explicit(&s->e[w].var, memory_order_relaxed) == var))
            atomic_store_explicit(&s->e[w].addr, 0, memory_order_release);
    ngr_spin_unlock(l);
}

/* A freed container: the common case, no entry, costs one look at its set (one cache line). */
static inline void container_freed(PyObject *obj)
{
    struct sh_set *s = &sets[addr_hash((uintptr_t)obj) & (SH_SETS - 1)];
    for (unsigned w = 0; w < SH_WAYS; w++)
        if (atomic_load_explicit(&s->e[w].addr, memory_order_relaxed) == (uintptr_t)obj) {
            forget((uintptr_t)obj, 0);
            return;
        }
}

#define DEALLOC_WRAPPER(NAME)                                                                  \
    static destructor real_##NAME;                                                             \
    static void NAME##_freed(PyObject *obj)                                                    \
    {                                                                                          \
        container_freed(obj);                                                                  \
        real_##NAME(obj);                                                                      \
    }
DEALLOC_WRAPPER(dict)
DEALLOC_WRAPPER(list)
DEALLOC_WRAPPER(set)
DEALLOC_WRAPPER(bytearray)
DEALLOC_WRAPPER(deque)

/* Cells take no weak references, and die by the thousand (each call of a function whose locals
 * a closure uses): their hints go with them, or the next cell at the address would get the dead
 * one's name (hints are kept for cells only until they are shared: cells.c). */
static destructor real_cell;
static void cell_freed(PyObject *obj)
{
    container_freed(obj);
    struct hint *h = &hints[addr_hash((uintptr_t)obj) & (HINT_SLOTS - 1)];
    uintptr_t expected = (uintptr_t)obj;
    if (atomic_load_explicit(&h->addr, memory_order_relaxed) == expected)
        atomic_compare_exchange_strong(&h->addr, &expected, 0);
    real_cell(obj);
}

static void wrap_dealloc(PyTypeObject *tp, destructor *real, destructor wrapper)
{
    if (tp && !*real && tp->tp_dealloc && tp->tp_dealloc != wrapper) {
        *real = tp->tp_dealloc;
        tp->tp_dealloc = wrapper;
    }
}

/* The deque type (a C type of the _collections module), borrowed; NULL if not found. */
static PyTypeObject *deque_type(void)
{
    PyObject *m = PyImport_ImportModule("_collections");
    PyObject *t = m ? PyObject_GetAttrString(m, "deque") : NULL;
    Py_XDECREF(m);
    PyErr_Clear();
    if (!t || !PyType_Check(t)) {
        Py_XDECREF(t);
        return NULL;
    }
    Py_DECREF(t); /* _collections keeps it */
    return (PyTypeObject *)t;
}

/* The weak reference's callback; `key` is (the object's address, its var id). */
static PyObject *object_died(PyObject *key, PyObject *wr)
{
    if (PyTuple_Check(key) && PyTuple_GET_SIZE(key) == 2) {
        void *p = PyLong_AsVoidPtr(PyTuple_GET_ITEM(key, 0));
        unsigned long var = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(key, 1));
        if (p && var != (unsigned long)-1)
            forget((uintptr_t)p, (uint32_t)var);
    }
    PyErr_Clear();
    Py_DECREF(wr); /* the reference watch_death kept */
    Py_RETURN_NONE;
}
static PyMethodDef object_died_def = {"_nogilrace_object_died", object_died, METH_O, NULL};

/* Arrange for the entry of an object of a class, or of a generator, to end with it (containers'
 * deallocators do it for theirs). */
static void watch_death(PyObject *obj, uint32_t var)
{
    if (!PyType_SUPPORTS_WEAKREFS(Py_TYPE(obj)))
        return;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *key = Py_BuildValue("(NI)", PyLong_FromVoidPtr(obj), (unsigned)var);
    PyObject *cb = key ? PyCFunction_New(&object_died_def, key) : NULL;
    PyObject *wr = cb ? PyWeakref_NewRef(obj, cb) : NULL; /* kept until the callback */
    Py_XDECREF(cb);
    Py_XDECREF(key);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    (void)wr;
}

/* ---- what can be shared ---------------------------------------------------------------------- */

static const char *container_name(PyObject *o, char *buf, size_t cap)
{
    if (PyGen_CheckExact(o)) {
        /* its function's name: a getset of the (final) generator type, no user code */
        PyObject *q = PyObject_GetAttrString(o, "__qualname__");
        const char *qs = q && PyUnicode_Check(q) ? PyUnicode_AsUTF8(q) : NULL;
        snprintf(buf, cap, "<generator %s>", qs ? qs : "?");
        Py_XDECREF(q);
        PyErr_Clear();
        return buf;
    }
    if (ngr_is_iterator(o)) {
        snprintf(buf, cap, "<%s>", Py_TYPE(o)->tp_name);
        return buf;
    }
    return PyDict_Check(o) ? "<dict>" : PyList_Check(o) ? "<list>" : PyAnySet_Check(o) ? "<set>"
           : PyByteArray_Check(o) ? "<bytearray>" : "<deque>";
}

/* The object's name: an object of a class is named by its class ("app.Stats()": what the report
 * groups by, whoever stored it where — pytest keeps a TestCase in its own attributes); a
 * container by where it was stored (a hint), else its type; a cell (`cell_name` given) by its
 * owner's store into it (a hint: the exact owner), else `cell_name`, what the access that shares
 * it knows. */
static const char *object_name(PyObject *obj, bool container, const char *cell_name, char *buf,
                               size_t cap)
{
    if (cell_name) {
        const char *h = hint_of(obj);
        return h ? h : cell_name;
    }
    if (container) {
        const char *h = hint_of(obj);
        return h ? h : container_name(obj, buf, cap);
    }
    const char *cls = ngr_vars_class_name(Py_TYPE(obj));
    snprintf(buf, cap, "%s()", cls && *cls ? cls : "?");
    return buf;
}

uint32_t ngr_shared_var_maybe(PyObject *obj)
{
    struct sh_ent *e = sets ? find(&sets[addr_hash((uintptr_t)obj) & (SH_SETS - 1)], obj) : NULL;
    return e ? atomic_load_explicit(&e->var, memory_order_acquire) : 0;
}

/* The variable of obj, made when a second thread touches it: a `kind` variable (NGR_VAR_*) named
 * by object_name. */
static uint32_t shared_var(PyObject *obj, unsigned kind, bool container, const char *cell_name)
{
    if (!sets)
        return 0;
    uint32_t h = addr_hash((uintptr_t)obj);
    struct sh_set *s = &sets[h & (SH_SETS - 1)];
    struct sh_ent *e = find(s, obj);
    uint32_t var = e ? atomic_load_explicit(&e->var, memory_order_acquire) : 0;
    if (var)
        return var;
    int own = ngr_v_owned_by_caller(obj);
    if (own == 1)
        return 0; /* free-threaded: its maker, and nobody else has shared it yet */
    uint32_t me = ngr_thread_num();
    if (own < 0 && e && atomic_load_explicit(&e->owner, memory_order_relaxed) == me)
        return 0; /* default build: the first thread that touched it, again */
    ngr_spin *l = &set_locks[h % SH_LOCKS];
    ngr_spin_lock(l);
    e = find(s, obj);
    var = e ? atomic_load_explicit(&e->var, memory_order_relaxed) : 0;
    bool share = !var && (own == 0 || (e && atomic_load_explicit(&e->owner, memory_order_relaxed) != me));
    if (!var && !share && !e) {
        /* default build, first touch: remember the thread, trace nothing yet */
        publish_locked(take_locked(s), obj, 0, me);
        ngr_spin_unlock(l);
        return 0;
    }
    if (!var && share) {
        char buf[300];
        var = ngr_vars_new_object(object_name(obj, container, cell_name, buf, sizeof buf), kind);
        if (var)
            publish_locked(e ? e : take_locked(s), obj, var, me);
    }
    ngr_spin_unlock(l);
    if (var && share && !cell_name && (!container || PyGen_CheckExact(obj)))
        watch_death(obj, var);
    return var;
}

uint32_t ngr_shared_var(PyObject *obj, bool container)
{
    return shared_var(obj, !container ? NGR_VAR_OBJ_ATTR : ngr_is_iterator(obj) ? NGR_VAR_ITERATOR
                                                                              : NGR_VAR_CONTAINER,
                      container, NULL);
}

uint32_t ngr_shared_cell_var(PyObject *cell, const char *name)
{
    return shared_var(cell, NGR_VAR_CLOSURE, false, name);
}

uint32_t ngr_traced_var(PyObject *obj)
{
    uint32_t v = ngr_vars_tracked(obj);
    if (v)
        return v;
    bool container;
    return ngr_is_shareable(obj, &container) ? ngr_shared_var(obj, container) : 0;
}

int ngr_shared_init(void)
{
    void *p = mmap(NULL, SH_SETS * sizeof(struct sh_set), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *q = mmap(NULL, HINT_SLOTS * sizeof(struct hint), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED || q == MAP_FAILED)
        return -1;
    sets = p;
    hints = q;
    wrap_dealloc(&PyDict_Type, &real_dict, dict_freed);
    wrap_dealloc(&PyList_Type, &real_list, list_freed);
    wrap_dealloc(&PySet_Type, &real_set, set_freed);
    wrap_dealloc(&PyByteArray_Type, &real_bytearray, bytearray_freed);
    wrap_dealloc(deque_type(), &real_deque, deque_freed);
    wrap_dealloc(&PyCell_Type, &real_cell, cell_freed);
    return 0;
}
