/* monitor.c — the sys.monitoring INSTRUCTION callback: reads of module state, and every access
 * through a receiver (attributes of classes and tracked objects, subscripts, `in`, container
 * method calls, iteration).
 *
 * Each instruction offset reaches us once; offsets that can never touch module state return
 * DISABLE and cost nothing afterwards.  Offsets that can (LOAD_GLOBAL of a global, LOAD_ATTR,
 * subscripts, CALL ...) stay instrumented, and the callback decides per execution from the live
 * receiver, found on the operand stack at the depth codeinfo.c computed.  Writes to module and
 * class dicts are left to the dict watcher (watch.c), which also sees writes from C code.
 */
#include "acc.h"

#include <string.h>

static PyObject *disable; /* sys.monitoring.DISABLE */
/* in a LOAD_GLOBAL cache entry: the value was a constant binding when the variable was resolved */
#define CACHE_CONST 0x80000000u
static PyObject *restart_events; /* sys.monitoring.restart_events */

void ngr_monitor_restart(void)
{
    if (!restart_events)
        return;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *r = PyObject_CallNoArgs(restart_events);
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

/* A global bound once (its definition) and never rebound is a constant binding: numbers and
 * strings, but also the module-level dict, list, lock or object that the program then uses
 * through that name (accesses to the object itself are traced as its own variable).  None and
 * bools are left out: they are the usual sentinels of lazy initialisation and flags, whose every
 * read matters to check-then-act.  NOGILRACE_ALL_READS=1 records every read. */
static bool constant_value(PyObject *v)
{
    return v != Py_None && !PyBool_Check(v);
}

/* Does `co` itself store or delete global name number `name_index`?  Such a function's reads of
 * that global are never switched off as a constant's: its read and its later write must both be
 * seen in every call, or the next call's write would be paired with this call's read (frame ids
 * are told apart by the accesses we see) — a read-modify-write under a lock would then look like
 * a lost update across the lock's release. */
static bool code_stores_global(const struct ngr_codeinfo *ci, int name_index)
{
    for (int u = 0; u < ci->n_units; u++)
        if ((ci->op[u] == ngr_op.STORE_GLOBAL || ci->op[u] == ngr_op.DELETE_GLOBAL) &&
            ci->arg[u] == name_index)
            return true;
    return false;
}

/* ---- iteration spans: GET_ITER … the instruction after the loop's END_FOR ------------------ */
#define OPEN_ITERS 8
struct open_iter { const void *frame; int exit_offset; uint32_t var; uint64_t fid; };
static __thread struct open_iter open_iters[OPEN_ITERS];
static __thread unsigned open_next;

static void iter_open(ngr_vframe *f, int exit_offset, uint32_t var, uint64_t fid)
{
    open_iters[open_next++ % OPEN_ITERS] = (struct open_iter){f, exit_offset, var, fid};
}

static void iter_close(ngr_vframe *f, int offset)
{
    for (unsigned i = 0; i < OPEN_ITERS; i++) {
        struct open_iter *o = &open_iters[i];
        if (o->frame == f && o->exit_offset == offset && o->var) {
            ngr_emit_access(NGR_ACC_ITER_END, o->var, 0, o->fid, ngr_stack_here(f, offset));
            o->var = 0;
        }
    }
}

/* ---- helpers ------------------------------------------------------------------------------- */

static bool keyed_container(PyObject *c)
{
    return PyDict_Check(c) || (PyAnySet_Check(c) && !PyFrozenSet_Check(c));
}

/* Constants not worth a read record: functions, classes, modules. */
static bool code_like(PyObject *v)
{
    return PyFunction_Check(v) || PyType_Check(v) || PyModule_Check(v) || PyCFunction_Check(v) ||
           PyMethod_Check(v) || Py_IS_TYPE(v, &PyClassMethodDescr_Type) ||
           Py_IS_TYPE(v, &PyStaticMethod_Type) || Py_IS_TYPE(v, &PyClassMethod_Type) ||
           Py_IS_TYPE(v, &PyProperty_Type);
}

/* An item of a tracked object's __dict__ is that object's attribute. */
static uint32_t dict_attr_var(PyObject *dict, PyObject *key)
{
    if (!PyDict_Check(dict) || !key || !PyUnicode_CheckExact(key))
        return 0;
    PyObject *owner = ngr_vars_dict_owner(dict);
    return owner ? ngr_vars_attr(owner, key) : 0;
}

static bool emit_item(ngr_vframe *f, int off, unsigned kind, PyObject *container, PyObject *key)
{
    uint32_t var = ngr_vars_tracked(container);
    if (!var) {
        uint32_t av = dict_attr_var(container, key);
        if (av)
            ngr_acc_emit(f, off, (kind & ~NGR_ACC_FLAG_ATOMIC) == NGR_ACC_CONTAINS ? NGR_ACC_READ : kind & ~NGR_ACC_FLAG_ATOMIC, av, 0);
        return av != 0;
    }
    uint64_t k = key && keyed_container(container) ? ngr_vars_key(key) : 0;
    ngr_acc_emit(f, off, kind, var, k);
    return true;
}

/* The class in tp's MRO whose own dict holds `name`, with the value; NULL if none of ours. */
static PyTypeObject *class_owner(PyTypeObject *tp, PyObject *name, PyObject **value)
{
    PyObject *mro = tp->tp_mro;
    if (!mro || !PyTuple_Check(mro))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!t->tp_dict)
            continue;
        int unsafe = 0;
        PyObject *v = ngr_v_dict_get_str(t->tp_dict, name, &unsafe);
        if (unsafe)
            return NULL; /* a non-str key in a class dict: looking further could call __eq__ */
        if (v) {
            *value = v;
            return (t->tp_flags & Py_TPFLAGS_HEAPTYPE) ? t : NULL;
        }
    }
    return NULL;
}

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
static const struct method_kind seq_methods[] = { /* list, deque, bytearray: one variable each */
    {"append", NGR_ACC_WRITE, -1}, {"appendleft", NGR_ACC_WRITE, -1}, {"extend", NGR_ACC_WRITE, -1},
    {"extendleft", NGR_ACC_WRITE, -1}, {"insert", NGR_ACC_WRITE, -1}, {"remove", NGR_ACC_WRITE, -1},
    {"pop", NGR_ACC_WRITE, -1}, {"popleft", NGR_ACC_WRITE, -1}, {"clear", NGR_ACC_CLEAR, -1},
    {"sort", NGR_ACC_CLEAR, -1}, {"reverse", NGR_ACC_CLEAR, -1}, {"rotate", NGR_ACC_CLEAR, -1},
    {"index", NGR_ACC_READ, -1}, {"count", NGR_ACC_READ, -1}, {"copy", NGR_ACC_ITER_BEGIN, -1},
    {"__getitem__", NGR_ACC_READ, -1}, {NULL, 0, 0}};

static void on_method_call(ngr_vframe *f, int off, PyObject *recv, const char *meth,
                           PyObject *const *args, int nargs)
{
    uint32_t var = ngr_vars_tracked(recv);
    if (!var) {
        /* cache = obj.__dict__; cache.get(name) / cache.setdefault(name, v) ... */
        if (!PyDict_Check(recv) || nargs < 1)
            return;
        for (const struct method_kind *t = dict_methods; t->name; t++) {
            if (t->key_arg != 0 || strcmp(t->name, meth) != 0)
                continue;
            uint32_t av = dict_attr_var(recv, args[0]);
            if (av)
                ngr_acc_emit(f, off, t->kind == NGR_ACC_CONTAINS ? NGR_ACC_READ : t->kind, av, 0);
            return;
        }
        return;
    }
    const struct method_kind *t = PyDict_Check(recv) ? dict_methods
                                  : PyAnySet_Check(recv) ? set_methods : seq_methods;
    for (; t->name; t++) {
        if (strcmp(t->name, meth) != 0)
            continue;
        uint64_t key = t->key_arg >= 0 && t->key_arg < nargs ? ngr_vars_key(args[t->key_arg]) : 0;
        if (t->kind == NGR_ACC_ITER_BEGIN) {
            /* a C-level copy: one atomic read of every item */
            uint64_t fid = ngr_frame_id(f, ngr_v_frame_code(f), off);
            uint32_t st = ngr_stack_here(f, off);
            ngr_emit_access(NGR_ACC_ITER_BEGIN | NGR_ACC_FLAG_ATOMIC, var, 0, fid, st);
            ngr_emit_access(NGR_ACC_ITER_END | NGR_ACC_FLAG_ATOMIC, var, 0, fid, st);
        } else {
            ngr_acc_emit(f, off, t->kind | NGR_ACC_FLAG_ATOMIC, var, key);
        }
        return;
    }
}

/* __name__, __dict__, __class__ ...: interpreter bookkeeping, not program state (the dict
 * watcher skips their writes too). */
static bool dunder(PyObject *name)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(name, &n);
    if (!s) {
        PyErr_Clear();
        return false;
    }
    return n > 4 && s[0] == '_' && s[1] == '_' && s[n - 1] == '_' && s[n - 2] == '_';
}

static bool is_deque_type(PyTypeObject *tp)
{
    for (; tp; tp = tp->tp_base)
        if (!strcmp(tp->tp_name, "collections.deque"))
            return true;
    return false;
}

/* Could this object ever be a tracked container?  Instructions whose receiver is something else
 * (str, tuple, bytes, numbers, user objects ...) are switched off at first sight. */
static bool container_like(PyObject *o)
{
    return PyDict_Check(o) || PyList_Check(o) || (PyAnySet_Check(o) && !PyFrozenSet_Check(o)) ||
           PyByteArray_Check(o) || ngr_v_dictview_dict(o) || is_deque_type(Py_TYPE(o));
}

/* Could an instance of this type be tracked (an object reachable from module state)? */
static bool instance_trackable(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    return (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && ngr_vars_is_class_of_wanted(tp);
}

static bool is_builtin(PyObject *callable, const char *name)
{
    if (!PyCFunction_Check(callable))
        return false;
    PyObject *self = PyCFunction_GET_SELF(callable);
    return self && PyModule_Check(self) && !strcmp(((PyCFunctionObject *)callable)->m_ml->ml_name, name);
}

/* list(x), tuple(x), set(x), sorted(x), dict(x) ... of a tracked container: a whole read. */
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

/* Returns false when this call site can never touch a tracked container (a call of a Python
 * function, of a method of anything but a container ...): the caller switches it off. */
static bool on_call(ngr_vframe *f, int off, int depth, int argc)
{
    int base = depth - argc - 2;
    if (base < 0)
        return false;
    PyObject *callable = ngr_v_frame_stack(f, base);
    PyObject *self_or_null = ngr_v_frame_stack(f, base + 1);
    if (!callable)
        return true;
    if (self_or_null ? !(Py_IS_TYPE(callable, &PyMethodDescr_Type) && container_like(self_or_null))
                     : !((PyCFunction_Check(callable) && PyCFunction_GET_SELF(callable) &&
                          container_like(PyCFunction_GET_SELF(callable))) ||
                         (argc >= 1 && whole_read_builtin(callable)) ||
                         (argc == 1 && is_builtin(callable, "len"))))
        return false;
    PyObject *args[4] = {0};
    int nargs = argc < 4 ? argc : 4;
    for (int i = 0; i < nargs; i++)
        args[i] = ngr_v_frame_stack(f, base + 2 + i);
    if (self_or_null && Py_IS_TYPE(callable, &PyMethodDescr_Type)) {
        const char *meth = ((PyMethodDescrObject *)callable)->d_method->ml_name;
        on_method_call(f, off, self_or_null, meth, args, nargs);
        return true;
    }
    if (!self_or_null && PyCFunction_Check(callable)) {
        PyObject *recv = PyCFunction_GET_SELF(callable);
        if (recv && !PyModule_Check(recv)) {
            on_method_call(f, off, recv, ((PyCFunctionObject *)callable)->m_ml->ml_name, args, nargs);
            return true;
        }
    }
    if (!self_or_null && argc == 1 && is_builtin(callable, "len")) {
        /* len(x): one atomic read of the container's size */
        if (args[0])
            emit_item(f, off, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, args[0], NULL);
        return true;
    }
    if (!self_or_null && argc >= 1 && whole_read_builtin(callable)) {
        PyObject *c = args[0];
        PyObject *d = c ? ngr_v_dictview_dict(c) : NULL;
        uint32_t var = ngr_vars_tracked(d ? d : c);
        if (var) {
            uint64_t fid = ngr_frame_id(f, ngr_v_frame_code(f), off);
            uint32_t st = ngr_stack_here(f, off);
            ngr_emit_access(NGR_ACC_ITER_BEGIN | NGR_ACC_FLAG_ATOMIC, var, 0, fid, st);
            ngr_emit_access(NGR_ACC_ITER_END | NGR_ACC_FLAG_ATOMIC, var, 0, fid, st);
        }
    }
    return true;
}

/* ---- the callback -------------------------------------------------------------------------- */

static PyObject *on_instruction(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs < 2 || !PyCode_Check(args[0]) || !PyLong_Check(args[1]))
        return Py_NewRef(Py_None);
    if (atomic_load_explicit(&ngr_acc_off, memory_order_relaxed) || !ngr_tracing())
        return Py_NewRef(disable);
    PyCodeObject *co = (PyCodeObject *)args[0];
    int off = (int)PyLong_AsLong(args[1]);
    struct ngr_codeinfo *ci = ngr_codeinfo_get(co);
    int unit = off / 2;
    if (!ci || unit < 0 || unit >= ci->n_units)
        return Py_NewRef(disable);
    ngr_vframe *f = ngr_v_current_frame();
    if (!f || ngr_v_frame_code(f) != co)
        return Py_NewRef(Py_None);
    /* The first instruction after a for loop (behind END_FOR, POP_TOP) ends its iteration span;
     * it stays instrumented whatever it is. */
    bool loop_exit = unit >= 2 && ci->op[unit - 2] == ngr_op.END_FOR && ci->op[unit - 1] == ngr_op.POP_TOP;
    /* EXTENDED_ARG prefixes report on their own (switched off below, as any other opcode we do
     * not handle); the instruction after them reports with its full argument. */
    int op = ci->op[unit], arg = ci->arg[unit], depth = ci->depth[unit];
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *ret = Py_None;
    if (loop_exit)
        iter_close(f, off);

    if (op == ngr_op.LOAD_GLOBAL) {
        PyObject *globals = ngr_v_frame_globals(f);
        /* Hot path: this instruction already resolved to a variable of these globals.  The tag
         * is the dict's address, which a freed dict hands on to the next: one code object run
         * in namespace after namespace (exec of a compiled template into fresh module dicts)
         * would read the first one's variable.  So the entries of a code object count only
         * while no traced module dict has been freed since they were made (the epoch; module
         * dicts are rarely freed, and a free costs each code object one refill). */
        uint64_t tag = (uint64_t)(uintptr_t)globals >> 4 & 0xffffffffu;
        _Atomic uint64_t *cache = ngr_codeinfo_cache(ci);
        uint32_t epoch = atomic_load_explicit(&ngr_globals_epoch, memory_order_acquire);
        uint64_t c = cache && atomic_load_explicit(&ci->cache_epoch, memory_order_relaxed) == epoch
                         ? atomic_load_explicit(&cache[unit], memory_order_relaxed) : 0;
        if (c && (c >> 32) == tag) {
            uint32_t var = (uint32_t)c & ~CACHE_CONST;
            ngr_acc_emit(f, off, NGR_ACC_READ, var, 0);
            /* back after a restart_events(): a constant binding is switched off again */
            if ((c & CACHE_CONST) && ngr_acc_may_disable(var))
                ret = disable;
            goto out;
        }
        PyObject *name = PyTuple_GetItem(co->co_names, arg >> 1);
        if (!globals || !PyDict_CheckExact(globals) || !name || dunder(name)) {
            ret = disable;
            goto out;
        }
        /* The value decides whether this is state; a module dict holding non-str keys cannot be
         * searched without possibly calling a user __eq__, so there every global counts. */
        int unsafe = 0;
        PyObject *v = ngr_v_dict_get_str(globals, name, &unsafe);
        if (!unsafe && (!v || code_like(v))) {
            /* A builtin, a function, a class or a module: code, not state.  Decided once per
             * instruction, so that calling module functions costs nothing after the first call
             * (rebinding a function later, monkeypatching, is not traced at this site). */
            ret = disable;
            goto out;
        }
        uint32_t var = 0;
        bool constant = !unsafe && v && constant_value(v) && !code_stores_global(ci, arg >> 1);
        {
            const char *m = ngr_vars_module_name(globals);
            /* Not traced: a module we leave out, one that found no room in the namespace table,
             * a variable that found none in the variable table (decided once per site). */
            if (!m || !ngr_module_wanted(m) || !ngr_watch_module_dict(globals) ||
                !(var = ngr_vars_named(globals, name, m, NGR_VAR_GLOBAL))) {
                ret = disable;
                goto out;
            }
            if (cache && var < CACHE_CONST &&
                atomic_load_explicit(&ci->cache_epoch, memory_order_relaxed) != epoch) {
                /* entries of an older epoch: drop them all, then count from this one (an entry
                 * another thread stores meanwhile is for its own live globals: still right) */
                for (int u = 0; u < ci->n_units; u++)
                    atomic_store_explicit(&cache[u], 0, memory_order_relaxed);
                atomic_store_explicit(&ci->cache_epoch, epoch, memory_order_release);
            }
            if (cache && var < CACHE_CONST)
                atomic_store_explicit(&cache[unit],
                                      tag << 32 | var | (constant ? CACHE_CONST : 0),
                                      memory_order_relaxed);
        }
        ngr_acc_emit(f, off, NGR_ACC_READ, var, 0);
        /* Module constants: once recorded, this instruction is disabled until the constant is
         * written again (stacks.c calls ngr_monitor_restart), so hot loops over constants run at
         * full speed. */
        if (constant && ngr_acc_may_disable(var))
            ret = disable;
    } else if (op == ngr_op.LOAD_ATTR) {
        PyObject *owner = depth >= 1 ? ngr_v_frame_stack(f, depth - 1) : NULL;
        PyObject *name = PyTuple_GetItem(co->co_names, arg >> 1);
        if (depth < 1 || !name || dunder(name)) {
            ret = disable;
            goto out;
        }
        if (!owner)
            goto out;
        if (PyModule_Check(owner)) {
            PyObject *md = PyModule_GetDict(owner);
            int unsafe = 0;
            PyObject *v = md ? ngr_v_dict_get_str(md, name, &unsafe) : NULL;
            if ((v && !code_like(v)) || unsafe) {
                const char *m = ngr_vars_module_name(md);
                bool wanted = m && ngr_module_wanted(m);
                uint32_t var = wanted && ngr_watch_module_dict(md)
                                   ? ngr_vars_named(md, name, m, NGR_VAR_GLOBAL) : 0;
                if (var) {
                    ngr_acc_emit(f, off, NGR_ACC_READ, var, 0);
                    /* `mod.CONSTANT`: as for LOAD_GLOBAL (a site's module rarely changes) */
                    if (!unsafe && v && constant_value(v) && ngr_acc_may_disable(var))
                        ret = disable;
                } else if (wanted) {
                    ret = disable; /* no room in a table: not traced, decided once per site */
                }
            } else if (v) {
                ret = disable; /* `os.path`, `mod.func`: code, not state */
            }
        } else if (PyType_Check(owner)) {
            PyObject *v = NULL;
            PyTypeObject *t = class_owner((PyTypeObject *)owner, name, &v);
            if (t && v && !code_like(v) && ngr_vars_is_class_of_wanted(t)) {
                /* a class that found no room in the namespace table is not traced */
                if (ngr_watch_class(t))
                    ngr_acc_emit(f, off, NGR_ACC_READ,
                                 ngr_vars_named(t->tp_dict, name, ngr_vars_class_name(t), NGR_VAR_CLASS_ATTR), 0);
            } else if (v && code_like(v)) {
                ret = disable; /* `Cls.method`: code, not state */
            }
        } else if (arg & 1) {
            ret = disable; /* a method load (`obj.meth()`) is not a state read */
        } else if (ngr_vars_tracked(owner)) {
            ngr_acc_emit(f, off, NGR_ACC_READ, ngr_vars_attr(owner, name), 0);
        } else if (!instance_trackable(owner)) {
            ret = disable; /* an attribute of a str, a list, a stdlib object ... */
        }
    } else if (op == ngr_op.STORE_ATTR || op == ngr_op.DELETE_ATTR) {
        PyObject *owner = depth >= 1 ? ngr_v_frame_stack(f, depth - 1) : NULL;
        PyObject *name = PyTuple_GetItem(co->co_names, arg);
        if (depth < 1 || !name) {
            ret = disable;
            goto out;
        }
        /* modules and classes: the dict watcher records it */
        if (owner && !PyModule_Check(owner) && !PyType_Check(owner) && ngr_vars_tracked(owner))
            ngr_acc_emit(f, off, op == ngr_op.STORE_ATTR ? NGR_ACC_WRITE : NGR_ACC_DELETE,
                         ngr_vars_attr(owner, name), 0);
        else if (owner && (PyModule_Check(owner) || PyType_Check(owner) || !instance_trackable(owner)))
            ret = disable;
    } else if (op == ngr_op.BINARY_SUBSCR || op == ngr_op.STORE_SUBSCR || op == ngr_op.DELETE_SUBSCR) {
        if (depth < 2) {
            ret = disable;
            goto out;
        }
        PyObject *key = ngr_v_frame_stack(f, depth - 1), *cont = ngr_v_frame_stack(f, depth - 2);
        unsigned kind = op == ngr_op.BINARY_SUBSCR ? NGR_ACC_READ
                        : op == ngr_op.STORE_SUBSCR ? NGR_ACC_WRITE : NGR_ACC_DELETE;
        if (cont && key && !emit_item(f, off, kind | NGR_ACC_FLAG_ATOMIC, cont, key) &&
            !container_like(cont))
            ret = disable;
    } else if (op == ngr_op.CONTAINS_OP) {
        if (depth < 2) {
            ret = disable;
            goto out;
        }
        PyObject *cont = ngr_v_frame_stack(f, depth - 1), *item = ngr_v_frame_stack(f, depth - 2);
        if (cont && item && !emit_item(f, off, NGR_ACC_CONTAINS | NGR_ACC_FLAG_ATOMIC, cont, item) &&
            !container_like(cont))
            ret = disable;
    } else if (op == ngr_op.GET_ITER) {
        PyObject *it = depth >= 1 ? ngr_v_frame_stack(f, depth - 1) : NULL;
        if (depth < 1) {
            ret = disable;
            goto out;
        }
        PyObject *d = it ? ngr_v_dictview_dict(it) : NULL;
        uint32_t var = it ? ngr_vars_tracked(d ? d : it) : 0;
        int next = unit + 1 + ngr_op.caches[op];
        if (var && next < ci->n_units && ci->op[next] == ngr_op.FOR_ITER) {
            int target = next + 1 + ngr_op.caches[ngr_op.FOR_ITER] + ci->arg[next];
            uint64_t fid = ngr_frame_id(f, co, off);
            ngr_emit_access(NGR_ACC_ITER_BEGIN, var, 0, fid, ngr_stack_here(f, off));
            /* An exhausted FOR_ITER jumps over its END_FOR and POP_TOP (3.13): the loop is left at
             * the instruction after them. */
            iter_open(f, (target + 2) * 2, var, fid);
        } else if (var) {
            uint64_t fid = ngr_frame_id(f, co, off);
            uint32_t st = ngr_stack_here(f, off);
            ngr_emit_access(NGR_ACC_ITER_BEGIN, var, 0, fid, st);
            ngr_emit_access(NGR_ACC_ITER_END, var, 0, fid, st);
        } else if (it && !container_like(it)) {
            ret = disable; /* iterating a range, a str, a generator ... */
        }
    } else if (ngr_op.TO_BOOL >= 0 && op == ngr_op.TO_BOOL) {
        /* `if pending:` — an emptiness test, a read of the whole container */
        PyObject *v = depth >= 1 ? ngr_v_frame_stack(f, depth - 1) : NULL;
        if (depth < 1) {
            ret = disable;
            goto out;
        }
        if (v && !emit_item(f, off, NGR_ACC_READ | NGR_ACC_FLAG_ATOMIC, v, NULL) && !container_like(v))
            ret = disable;
    } else if (op == ngr_op.CALL) {
        if (depth < arg + 2) {
            ret = disable;
            goto out;
        }
        if (!on_call(f, off, depth, arg))
            ret = disable;
    } else if (unit > 1 && ci->op[unit - 2] == ngr_op.END_FOR) {
        iter_close(f, off);
    } else {
        ret = disable;
    }
out:
    if (loop_exit && ret == disable)
        ret = Py_None;
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return Py_NewRef(ret);
}

static PyMethodDef on_instruction_def = {"nogilrace_instruction", (PyCFunction)(void (*)(void))on_instruction,
                                         METH_FASTCALL, NULL};

/* Register the callback with a free sys.monitoring tool id (3, 4 or 5: 0-2 are the debugger's,
 * coverage's and profilers'). */
int ngr_monitor_init(void)
{
    PyObject *mon = PyImport_ImportModule("sys");
    PyObject *m = mon ? PyObject_GetAttrString(mon, "monitoring") : NULL;
    Py_XDECREF(mon);
    if (!m)
        goto fail;
    disable = PyObject_GetAttrString(m, "DISABLE");
    restart_events = PyObject_GetAttrString(m, "restart_events");
    PyErr_Clear();
    PyObject *events = PyObject_GetAttrString(m, "events");
    PyObject *ev = events ? PyObject_GetAttrString(events, "INSTRUCTION") : NULL;
    Py_XDECREF(events);
    PyObject *fn = PyCFunction_New(&on_instruction_def, NULL);
    int tool = -1;
    for (int t = 5; t >= 3 && disable && ev && fn; t--) {
        PyObject *r = PyObject_CallMethod(m, "use_tool_id", "is", t, "nogilrace");
        if (r) {
            Py_DECREF(r);
            tool = t;
            break;
        }
        PyErr_Clear();
    }
    int rc = -1;
    if (tool >= 0) {
        PyObject *r1 = PyObject_CallMethod(m, "register_callback", "iOO", tool, ev, fn);
        PyObject *r2 = r1 ? PyObject_CallMethod(m, "set_events", "iO", tool, ev) : NULL;
        rc = r1 && r2 ? 0 : -1;
        Py_XDECREF(r1);
        Py_XDECREF(r2);
    }
    Py_XDECREF(ev);
    Py_XDECREF(fn);
    Py_DECREF(m);
    if (rc == 0)
        return 0;
fail:
    PyErr_Clear();
    return -1;
}
