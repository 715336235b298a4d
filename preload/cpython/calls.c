/* calls.c — calls that read or write a traced container: its methods (d.get, d.setdefault,
 * lst.append, s.add ...) and the builtins that read all of it (len, list(), sorted() ...).
 *
 * Each is one atomic operation in the free-threaded build (NGR_ACC_FLAG_ATOMIC).  A call site
 * whose callable is anything else (a Python function, a method of a non-container) is switched
 * off at first sight.
 */
#include "site.h"

#include <string.h>

/* Container methods: what a call does to its receiver. */
struct method_kind { const char *name; unsigned kind; int key_arg; };
static const struct method_kind dict_methods[] = {
    {"get", NGR_ACC_READ, 0}, {"__getitem__", NGR_ACC_READ, 0}, {"__contains__", NGR_ACC_CONTAINS, 0},
    {"setdefault", NGR_ACC_WRITE, 0}, {"pop", NGR_ACC_DELETE, 0}, {"popitem", NGR_ACC_CLEAR, -1},
    {"update", NGR_ACC_CLEAR, -1}, {"clear", NGR_ACC_CLEAR, -1}, {"copy", NGR_ACC_ITER_BEGIN, -1},
    {"__setitem__", NGR_ACC_WRITE, 0}, {"__delitem__", NGR_ACC_DELETE, 0}, {NULL, 0, 0}};
static const struct method_kind set_methods[] = {
    {"add", NGR_ACC_WRITE, 0}, {"discard", NGR_ACC_DELETE, 0}, {"remove", NGR_ACC_DELETE, 0},
    {"__contains__", NGR_ACC_CONTAINS, 0}, {"pop", NGR_ACC_CLEAR, -1}, {"clear", NGR_ACC_CLEAR, -1},
    {"update", NGR_ACC_CLEAR, -1}, {"difference_update", NGR_ACC_CLEAR, -1},
    {"intersection_update", NGR_ACC_CLEAR, -1}, {"copy", NGR_ACC_ITER_BEGIN, -1}, {NULL, 0, 0}};
/* list, deque, bytearray: items by index.  Growing at the end (append, extend) writes the
 * container as a whole but moves no item; everything that moves items (insert, remove, pop,
 * popleft, appendleft, sort, rotate ...) is a write of every index (CLEAR). */
static const struct method_kind seq_methods[] = {
    {"append", NGR_ACC_WRITE, -1}, {"extend", NGR_ACC_WRITE, -1}, {"appendleft", NGR_ACC_CLEAR, -1},
    {"extendleft", NGR_ACC_CLEAR, -1}, {"insert", NGR_ACC_CLEAR, -1}, {"remove", NGR_ACC_CLEAR, -1},
    {"pop", NGR_ACC_CLEAR, -1}, {"popleft", NGR_ACC_CLEAR, -1}, {"clear", NGR_ACC_CLEAR, -1},
    {"sort", NGR_ACC_CLEAR, -1}, {"reverse", NGR_ACC_CLEAR, -1}, {"rotate", NGR_ACC_CLEAR, -1},
    {"index", NGR_ACC_ITER_BEGIN, -1}, {"count", NGR_ACC_ITER_BEGIN, -1}, {"copy", NGR_ACC_ITER_BEGIN, -1},
    {"__getitem__", NGR_ACC_READ, 0}, {"__setitem__", NGR_ACC_WRITE, 0}, {NULL, 0, 0}};

/* A read of every item in one call: with `atomic`, one operation under the container's lock (a
 * snapshot: d.copy(), list(d) ...), else a walk item by item that another thread's write can run
 * into (tuple(d), sum(l) ...): an iteration of one instruction. */
static void emit_whole_read(const struct ngr_site *s, uint32_t var, bool atomic)
{
    uint64_t fid = ngr_frame_id(s->f, s->co, s->off);
    uint32_t st = ngr_stack_here(s->f, s->off);
    unsigned a = atomic ? NGR_ACC_FLAG_ATOMIC : 0;
    ngr_emit_access(NGR_ACC_ITER_BEGIN | a, var, 0, fid, st);
    ngr_emit_access(NGR_ACC_ITER_END | a, var, 0, fid, st);
}

/* Which whole reads are one atomic step, in 3.13t and 3.14t alike (read in their C code and
 * measured under concurrent mutation; docs/findings.md has the table): the copies and the merges
 * that hold the source's lock across the whole walk — list(), sorted(), set() and frozenset() of
 * an exact dict, dict view (list/sorted only), list (list/tuple/sorted only) or set; dict() of an
 * exact dict.  Everything else walks with an iterator, item by item: tuple() of a dict or set,
 * set() of a list, dict() of pairs, anything of a deque or a subclass, sum/min/max/any/all. */
static bool builtin_snapshot_atomic(PyObject *callable, PyObject *c)
{
    bool dict = PyDict_CheckExact(c), view = ngr_v_dictview_dict(c) != NULL,
         list = PyList_CheckExact(c), set = PyAnySet_CheckExact(c);
    if (callable == (PyObject *)&PyList_Type)
        return dict || view || list || set;
    if (callable == (PyObject *)&PyTuple_Type)
        return list;
    if (callable == (PyObject *)&PySet_Type || callable == (PyObject *)&PyFrozenSet_Type)
        return dict || set;
    if (callable == (PyObject *)&PyDict_Type)
        return dict;
    if (PyCFunction_Check(callable) && !strcmp(((PyCFunctionObject *)callable)->m_ml->ml_name, "sorted"))
        return dict || view || list || set;
    return false; /* sum, min, max, any, all */
}

/* A container method that reads every item: copy() is one locked copy (deque.copy from 3.14 only:
 * 3.13's walks with the deque's iterator, releasing the lock between items); a list's index() and
 * count() walk without the lock; a deque's count() holds it. */
static bool method_snapshot_atomic(PyObject *recv, const char *meth)
{
    if (!strcmp(meth, "copy"))
        return PyDict_Check(recv) || PyList_Check(recv) || PyAnySet_Check(recv) || ngr_v_deque_copy_atomic();
    if (!strcmp(meth, "count"))
        return !PyList_Check(recv) && !PyByteArray_Check(recv);
    return false;
}

static void on_method_call(const struct ngr_site *s, PyObject *recv, const char *meth,
                           PyObject *const *args, int nargs)
{
    /* cache = obj.__dict__; cache.get(name) / cache.setdefault(name, v): a traced object's
     * attributes, before the dict itself */
    uint32_t var = ngr_vars_tracked(recv);
    if (!var && PyDict_Check(recv) && nargs >= 1 && ngr_vars_dict_owner(recv)) {
        for (const struct method_kind *t = dict_methods; t->name; t++) {
            if (t->key_arg != 0 || strcmp(t->name, meth) != 0)
                continue;
            uint32_t av = ngr_dict_attr_var(recv, args[0]);
            if (av)
                ngr_acc_emit(s->f, s->off, t->kind == NGR_ACC_CONTAINS ? NGR_ACC_READ : t->kind, av, 0);
            return;
        }
    }
    if (!var)
        var = ngr_site_object_var(s, recv);
    if (!var)
        return;
    const struct method_kind *t = PyDict_Check(recv) ? dict_methods
                                  : PyAnySet_Check(recv) ? set_methods : seq_methods;
    for (; t->name; t++) {
        if (strcmp(t->name, meth) != 0)
            continue;
        if (t->kind == NGR_ACC_ITER_BEGIN) {
            emit_whole_read(s, var, method_snapshot_atomic(recv, meth));
        } else {
            uint64_t key = t->key_arg >= 0 && t->key_arg < nargs ? ngr_vars_key(args[t->key_arg]) : 0;
            ngr_acc_emit(s->f, s->off, t->kind | NGR_ACC_FLAG_ATOMIC, var, key);
        }
        return;
    }
}

/* Module functions written in C that work on the container given as their first argument: the
 * mutation is one atomic operation of the container (it holds the container's lock), and a check
 * made before it in Python (`if heap: heapq.heappop(heap)`, `heap[0]` then heappop) is a
 * check-then-act on the container. */
struct c_function { const char *module, *name; unsigned kind; };
static const struct c_function c_functions[] = {
    {"_heapq", "heappush", NGR_ACC_CLEAR}, {"_heapq", "heappop", NGR_ACC_CLEAR},
    {"_heapq", "heapreplace", NGR_ACC_CLEAR}, {"_heapq", "heappushpop", NGR_ACC_CLEAR},
    {"_heapq", "heapify", NGR_ACC_CLEAR}, {"_heapq", "heappush_max", NGR_ACC_CLEAR},
    {"_heapq", "heappop_max", NGR_ACC_CLEAR}, {"_heapq", "heapreplace_max", NGR_ACC_CLEAR},
    {"_heapq", "heappushpop_max", NGR_ACC_CLEAR}, {"_heapq", "heapify_max", NGR_ACC_CLEAR},
    {"_bisect", "insort_left", NGR_ACC_CLEAR}, {"_bisect", "insort_right", NGR_ACC_CLEAR},
    {"_bisect", "bisect_left", NGR_ACC_READ}, {"_bisect", "bisect_right", NGR_ACC_READ},
    {"_collections", "_count_elements", NGR_ACC_CLEAR},
    {NULL, NULL, 0}};

/* The entry for a builtin of one of those modules, NULL if it is none. */
static const struct c_function *c_function_of(PyObject *callable)
{
    if (!PyCFunction_Check(callable))
        return NULL;
    PyObject *mod = PyCFunction_GET_SELF(callable);
    if (!mod || !PyModule_Check(mod))
        return NULL;
    const char *fn = ((PyCFunctionObject *)callable)->m_ml->ml_name;
    const char *mn = PyModule_GetName(mod);
    if (!mn) {
        PyErr_Clear();
        return NULL;
    }
    for (const struct c_function *c = c_functions; c->module; c++)
        if (!strcmp(c->name, fn) && !strcmp(c->module, mn))
            return c;
    return NULL;
}

static bool is_builtin(PyObject *callable, const char *name)
{
    if (!PyCFunction_Check(callable))
        return false;
    PyObject *self = PyCFunction_GET_SELF(callable);
    return self && PyModule_Check(self) && !strcmp(((PyCFunctionObject *)callable)->m_ml->ml_name, name);
}

/* list(x), tuple(x), set(x), sorted(x), dict(x) ... of a traced container: a whole read. */
static bool whole_read_builtin(PyObject *callable)
{
    if (callable == (PyObject *)&PyList_Type || callable == (PyObject *)&PyTuple_Type ||
        callable == (PyObject *)&PySet_Type || callable == (PyObject *)&PyFrozenSet_Type ||
        callable == (PyObject *)&PyDict_Type)
        return true;
    if (PyCFunction_Check(callable)) {
        const char *n = ((PyCFunctionObject *)callable)->m_ml->ml_name;
        PyObject *self = PyCFunction_GET_SELF(callable);
        return self && PyModule_Check(self) &&
               (!strcmp(n, "sorted") || !strcmp(n, "sum") || !strcmp(n, "min") || !strcmp(n, "max") ||
                !strcmp(n, "any") || !strcmp(n, "all"));
    }
    return false;
}

/* A call that can touch a container: a method descriptor called on a container, a bound builtin
 * method of a container, or a builtin reading its argument whole. */
static bool may_touch_container(PyObject *callable, PyObject *self_or_null, int argc)
{
    if (self_or_null)
        return Py_IS_TYPE(callable, &PyMethodDescr_Type) && ngr_is_container_like(self_or_null);
    return (PyCFunction_Check(callable) && PyCFunction_GET_SELF(callable) &&
            ngr_is_container_like(PyCFunction_GET_SELF(callable))) ||
           (argc >= 1 && whole_read_builtin(callable)) || (argc == 1 && is_builtin(callable, "len")) ||
           (argc >= 1 && c_function_of(callable)) || (argc >= 1 && is_builtin(callable, "next")) ||
           (argc == 1 && is_builtin(callable, "iter"));
}

enum ngr_verdict ngr_on_call(const struct ngr_site *s)
{
    int argc = s->arg;
    if (!ngr_site_stack_known(s, argc + 2))
        return NGR_DISABLE;
    PyObject *callable = ngr_site_peek(s, argc + 2);
    PyObject *self_or_null = ngr_site_peek(s, argc + 1);
    if (!callable)
        return NGR_KEEP;
    if (!may_touch_container(callable, self_or_null, argc))
        return NGR_DISABLE;
    PyObject *args[4] = {0};
    int nargs = argc < 4 ? argc : 4;
    for (int i = 0; i < nargs; i++)
        args[i] = ngr_site_peek(s, argc - i);
    if (self_or_null) {
        on_method_call(s, self_or_null, ((PyMethodDescrObject *)callable)->d_method->ml_name, args, nargs);
        return NGR_KEEP;
    }
    if (PyCFunction_Check(callable)) {
        PyObject *recv = PyCFunction_GET_SELF(callable);
        if (recv && !PyModule_Check(recv)) {
            on_method_call(s, recv, ((PyCFunctionObject *)callable)->m_ml->ml_name, args, nargs);
            return NGR_KEEP;
        }
    }
    const struct c_function *cf = argc >= 1 && args[0] ? c_function_of(callable) : NULL;
    if (cf) {
        ngr_emit_item(s, cf->kind | NGR_ACC_FLAG_ATOMIC, args[0], NULL);
        return NGR_KEEP;
    }
    if (argc >= 1 && args[0] && is_builtin(callable, "next")) {
        /* next(it): reads and moves the iterator's position, two steps (3.13t list iterators
         * hand an item out twice; a generator raises when two threads resume it) */
        ngr_iter_advance(s, args[0]);
        return NGR_KEEP;
    }
    if (argc == 1 && is_builtin(callable, "iter")) {
        /* iter(d), as in next(iter(d)) for a dict's first key: a read of the whole container (its
         * order and its first items), atomic as far as the taking goes */
        if (args[0])
            ngr_emit_item(s, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, args[0], NULL);
        return NGR_KEEP;
    }
    if (argc == 1 && is_builtin(callable, "len")) {
        /* len(x): one atomic read of the container's size */
        if (args[0])
            ngr_emit_item(s, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, args[0], NULL);
        return NGR_KEEP;
    }
    if (argc >= 1 && whole_read_builtin(callable)) {
        PyObject *c = args[0];
        PyObject *d = c ? ngr_v_dictview_dict(c) : NULL;
        uint32_t var = c ? ngr_site_object_var(s, d ? d : c) : 0;
        if (var)
            emit_whole_read(s, var, builtin_snapshot_atomic(callable, c));
    }
    return NGR_KEEP;
}
