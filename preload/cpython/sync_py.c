/* sync_py.c — happens-before edges of the Python-level stdlib primitives (threading.Event,
 * Semaphore, Barrier, Condition names, queue.Queue, concurrent.futures.Future), and the hook that
 * patches those modules when they finish importing.
 *
 * A class method is replaced by a small C callable that calls the original with the very same
 * arguments and returns/raises exactly what it does; only SEND before or RECV after is added.  It
 * binds like a function (method descriptor), and forwards attribute reads (__name__, __doc__,
 * __code__, __wrapped__ ...) to the original, so introspection keeps working.  Methods bound
 * before the patch (`put = q.put` captured before the module was patched) are not observed; since
 * patching happens when the module finishes importing, that only concerns code that ran before
 * tracing started.
 *
 * When: sys.modules is watched (a dict watcher).  importlib re-inserts a module into sys.modules
 * right after executing it (_bootstrap._load_unlocked: pop then set), so an ADDED event whose
 * module already holds the expected class means "import finished": patch then, once.  Modules
 * already imported at init are patched at init.
 */
#include <stddef.h>
#include <string.h>

#include "sync_internal.h"
#include "acc.h"

/* ---- the wrapper type ---------------------------------------------------------------------- */

#define NGR_W_RECV_FINISHED (1u << 8)   /* Future.result/exception: RECV when the future is done */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *orig;
    unsigned mode, kind;
    const char *what;
} wrapobj;

static PyTypeObject *wrap_type;

/* True when the instance dict of obj maps `attr` to the str `value`; runs no Python code. */
static bool dict_str_equals(PyObject *obj, const char *attr, const char *value)
{
    PyObject *d = PyObject_GenericGetDict(obj, NULL), *v = NULL;
    bool eq = false;
    if (d && PyDict_Check(d) && PyDict_GetItemStringRef(d, attr, &v) > 0 && PyUnicode_CheckExact(v))
        eq = PyUnicode_CompareWithASCIIString(v, value) == 0;
    Py_XDECREF(v);
    Py_XDECREF(d);
    return eq;
}

/* ---- ids of Python-level objects ------------------------------------------------------------
 * A Condition/Event/Queue/Future... created while tracing gets a table id (sync_ids.c), dropped
 * with a FREE when the object dies: a weak reference whose callback is a C function bound to the
 * object's address (no user code runs; the classes are plain Python classes, weakref-able). */

static PyObject *py_obj_died(PyObject *addr, PyObject *wr)
{
    void *p = PyLong_AsVoidPtr(addr);
    if (p)
        ngr_sync_emit_id(NGR_SYNC_FREE, ngr_sync_ids_drop(p), 0);
    PyErr_Clear();
    Py_DECREF(wr);                  /* the reference register_py_obj kept */
    Py_RETURN_NONE;
}

static PyMethodDef died_def = {"_nogilrace_sync_obj_died", py_obj_died, METH_O, NULL};

static uint64_t register_py_obj(PyObject *obj)
{
    uint64_t id = ngr_sync_ids_get(obj);
    if (id != ngr_sync_id(obj))
        return id;                  /* __init__ called again: already registered */
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *addr = PyLong_FromVoidPtr(obj);
    PyObject *cb = addr ? PyCFunction_New(&died_def, addr) : NULL;
    PyObject *wr = cb ? PyWeakref_NewRef(obj, cb) : NULL;
    if (wr)
        id = ngr_sync_ids_new(obj); /* wr is kept until the callback */
    Py_XDECREF(cb);
    Py_XDECREF(addr);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return id;
}

static PyObject *wrap_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames)
{
    wrapobj *w = (wrapobj *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs < 1 || !ngr_tracing())
        return PyObject_Vectorcall(w->orig, args, nargsf, kwnames);
    PyObject *obj = args[0];
    Py_INCREF(obj);                 /* the call may drop the last other reference */
    if (w->mode & NGR_W_THREAD_BOOT)
        ngr_threads_boot_begin(obj);
    if (w->mode & NGR_W_SEND_PRE)
        ngr_sync_emit_id(NGR_SYNC_SEND, ngr_sync_ids_get(obj), 0);
    PyObject *r = PyObject_Vectorcall(w->orig, args, nargsf, kwnames);
    if (r && ((w->mode & NGR_W_RECV_OK) || ((w->mode & NGR_W_RECV_TRUE) && r == Py_True)))
        ngr_sync_emit_id(NGR_SYNC_RECV, ngr_sync_ids_get(obj), 0);
    if (w->mode & NGR_W_RECV_FINISHED) {
        PyObject *exc = PyErr_GetRaisedException();
        if (dict_str_equals(obj, "_state", "FINISHED"))
            ngr_sync_emit_id(NGR_SYNC_RECV, ngr_sync_ids_get(obj), 0);
        PyErr_Clear();
        PyErr_SetRaisedException(exc);
    }
    if (r && (w->mode & NGR_W_NAME_INIT))
        ngr_sync_define_created_id(register_py_obj(obj), w->kind, w->what);
    if (w->mode & NGR_W_THREAD_BOOT)
        ngr_threads_boot_end(obj);
    if (r && (w->mode & NGR_W_THREAD_RENAME))
        ngr_threads_renamed(obj);
    Py_DECREF(obj);
    return r;
}

static PyObject *wrap_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static PyObject *wrap_getattro(PyObject *self, PyObject *name)
{
    wrapobj *w = (wrapobj *)self;
    if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0)
        return Py_NewRef(w->orig);
    return PyObject_GetAttr(w->orig, name);
}

static PyObject *wrap_repr(PyObject *self)
{
    return PyObject_Repr(((wrapobj *)self)->orig);
}

static void wrap_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(((wrapobj *)self)->orig);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMemberDef wrap_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(wrapobj, vectorcall), Py_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot wrap_slots[] = {
    {Py_tp_descr_get, wrap_descr_get},
    {Py_tp_getattro, wrap_getattro},
    {Py_tp_repr, wrap_repr},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_dealloc, wrap_dealloc},
    {Py_tp_members, wrap_members},
    {0, NULL},
};

static PyType_Spec wrap_spec = {
    .name = "nogilrace.wrapped_function",
    .basicsize = sizeof(wrapobj),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = wrap_slots,
};

int ngr_sync_wrap_method(PyObject *cls, const char *name, unsigned mode, unsigned sobj_kind,
                         const char *what)
{
    PyObject *orig = PyObject_GetAttrString(cls, name);
    if (!orig || !PyFunction_Check(orig)) {   /* missing, or already wrapped */
        PyErr_Clear();
        Py_XDECREF(orig);
        return -1;
    }
    wrapobj *w = PyObject_New(wrapobj, wrap_type);
    if (!w) {
        PyErr_Clear();
        Py_DECREF(orig);
        return -1;
    }
    w->vectorcall = wrap_vectorcall;
    w->orig = orig;
    w->mode = mode;
    w->kind = sobj_kind;
    w->what = what;
    int rc = PyObject_SetAttrString(cls, name, (PyObject *)w);
    Py_DECREF(w);
    if (rc < 0) {
        PyErr_Clear();
        ngr_log(1, "sync: could not wrap %s", name);
    }
    return rc;
}

/* ---- classes and their kinds (for name hints) ---------------------------------------------- */

#define MAX_CLASSES 16
static struct { _Atomic(PyObject *) cls; unsigned kind; } classes[MAX_CLASSES];
static _Atomic int n_classes;

static _Atomic int n_claimed;

/* Modules may finish importing in two threads at once: claim a slot, fill it, then publish it
 * (readers skip slots whose class is not there yet). */
static void remember_class(PyObject *cls, unsigned kind)
{
    int i = atomic_fetch_add(&n_claimed, 1);
    if (i >= MAX_CLASSES)
        return;
    classes[i].kind = kind;
    atomic_store_explicit(&classes[i].cls, Py_NewRef(cls),
                          memory_order_release);
    int n = atomic_load(&n_classes);
    while (n < i + 1 && !atomic_compare_exchange_weak(&n_classes, &n, i + 1))
        ;
}

unsigned ngr_sync_py_kind(PyObject *obj)
{
    int n = atomic_load(&n_classes);
    for (int i = 0; i < n && i < MAX_CLASSES; i++) {
        PyObject *cls = atomic_load_explicit(&classes[i].cls,
                                             memory_order_acquire);
        if (cls && PyType_IsSubtype(Py_TYPE(obj), (PyTypeObject *)cls))
            return classes[i].kind;
    }
    return 0;
}

/* ---- module patches ------------------------------------------------------------------------ */

/* Borrowed class `name` from a module's dict, NULL if not there (yet). */
static PyObject *module_class(PyObject *module, const char *name)
{
    PyObject *d = PyModule_GetDict(module), *c = NULL;
    if (!d || PyDict_GetItemStringRef(d, name, &c) <= 0 || !PyType_Check(c)) {
        PyErr_Clear();
        Py_XDECREF(c);
        return NULL;
    }
    Py_DECREF(c);                   /* the module keeps it */
    return c;
}

static PyObject *func_code(PyObject *cls, const char *name)
{
    PyObject *f = PyObject_GetAttrString(cls, name), *code = NULL;
    if (f && PyFunction_Check(f))
        code = Py_NewRef(PyFunction_GetCode(f));   /* kept for good */
    Py_XDECREF(f);
    PyErr_Clear();
    return code;
}

static PyObject *new_wrapper(PyObject *orig, unsigned mode)
{
    wrapobj *w = PyObject_New(wrapobj, wrap_type);
    if (!w)
        return NULL;
    w->vectorcall = wrap_vectorcall;
    w->orig = Py_NewRef(orig);
    w->mode = mode;
    w->kind = 0;
    w->what = NULL;
    return (PyObject *)w;
}

/* Thread.name is a property: replace it by property(fget, wrapped fset, fdel, doc). */
static void wrap_name_setter(PyObject *thread_cls)
{
    PyObject *prop = PyObject_GetAttrString(thread_cls, "name");
    PyObject *fget = NULL, *fset = NULL, *fdel = NULL, *doc = NULL, *w = NULL, *np = NULL;
    if (!prop || !PyObject_TypeCheck(prop, &PyProperty_Type))
        goto out;
    fget = PyObject_GetAttrString(prop, "fget");
    fset = PyObject_GetAttrString(prop, "fset");
    fdel = PyObject_GetAttrString(prop, "fdel");
    doc = PyObject_GetAttrString(prop, "__doc__");
    if (!fget || !fset || !fdel || !doc || !PyFunction_Check(fset))
        goto out;
    w = new_wrapper(fset, NGR_W_THREAD_RENAME);
    np = w ? PyObject_CallFunctionObjArgs((PyObject *)&PyProperty_Type, fget, w, fdel, doc, NULL)
           : NULL;
    if (np && PyObject_SetAttrString(thread_cls, "name", np) < 0)
        ngr_log(1, "sync: could not wrap Thread.name");
out:
    PyErr_Clear();
    Py_XDECREF(np);
    Py_XDECREF(w);
    Py_XDECREF(doc);
    Py_XDECREF(fdel);
    Py_XDECREF(fset);
    Py_XDECREF(fget);
    Py_XDECREF(prop);
}

static void patch_threading(PyObject *m)
{
    PyObject *cond = module_class(m, "Condition"), *event = module_class(m, "Event");
    PyObject *sem = module_class(m, "Semaphore"), *bsem = module_class(m, "BoundedSemaphore");
    PyObject *barrier = module_class(m, "Barrier"), *thread = module_class(m, "Thread");
    if (cond) {
        atomic_store(&ngr_sync_cond_wait_code, func_code(cond, "wait"));
        atomic_store(&ngr_sync_cond_notify_code, func_code(cond, "notify"));
        ngr_sync_wrap_method(cond, "__init__", NGR_W_NAME_INIT, NGR_SOBJ_CONDITION, "Condition");
        remember_class(cond, NGR_SOBJ_CONDITION);
    }
    if (event) {
        ngr_sync_wrap_method(event, "__init__", NGR_W_NAME_INIT, NGR_SOBJ_EVENT, "Event");
        ngr_sync_wrap_method(event, "set", NGR_W_SEND_PRE, 0, NULL);
        ngr_sync_wrap_method(event, "wait", NGR_W_RECV_TRUE, 0, NULL);
        ngr_sync_wrap_method(event, "is_set", NGR_W_RECV_TRUE, 0, NULL);
        remember_class(event, NGR_SOBJ_EVENT);
    }
    if (sem) {
        ngr_sync_wrap_method(sem, "__init__", NGR_W_NAME_INIT, NGR_SOBJ_SEMAPHORE, "Semaphore");
        ngr_sync_wrap_method(sem, "acquire", NGR_W_RECV_TRUE, 0, NULL);
        ngr_sync_wrap_method(sem, "__enter__", NGR_W_RECV_TRUE, 0, NULL);
        ngr_sync_wrap_method(sem, "release", NGR_W_SEND_PRE, 0, NULL);
        remember_class(sem, NGR_SOBJ_SEMAPHORE);
    }
    if (bsem)                       /* its own release; __init__/acquire come from Semaphore */
        ngr_sync_wrap_method(bsem, "release", NGR_W_SEND_PRE, 0, NULL);
    if (barrier) {
        ngr_sync_wrap_method(barrier, "__init__", NGR_W_NAME_INIT, NGR_SOBJ_BARRIER, "Barrier");
        ngr_sync_wrap_method(barrier, "wait", NGR_W_SEND_PRE | NGR_W_RECV_OK, 0, NULL);
        remember_class(barrier, NGR_SOBJ_BARRIER);
    }
    if (thread) {
        ngr_sync_wrap_method(thread, "_bootstrap_inner", NGR_W_THREAD_BOOT, 0, NULL);
        wrap_name_setter(thread);
    }
    PyObject *d = PyModule_GetDict(m), *main_thread = NULL;
    if (d && PyDict_GetItemStringRef(d, "_main_thread", &main_thread) > 0)
        ngr_threads_set_main(main_thread);
    Py_XDECREF(main_thread);        /* the module keeps it */
    PyErr_Clear();
}

static void patch_queue(PyObject *m)
{
    PyObject *q = module_class(m, "Queue");
    if (!q)
        return;
    ngr_sync_wrap_method(q, "__init__", NGR_W_NAME_INIT, NGR_SOBJ_QUEUE, "Queue");
    ngr_sync_wrap_method(q, "put", NGR_W_SEND_PRE, 0, NULL);
    ngr_sync_wrap_method(q, "get", NGR_W_RECV_OK, 0, NULL);
    ngr_sync_wrap_method(q, "task_done", NGR_W_SEND_PRE, 0, NULL);
    ngr_sync_wrap_method(q, "join", NGR_W_RECV_OK, 0, NULL);
    remember_class(q, NGR_SOBJ_QUEUE);
}

static void patch_futures(PyObject *m)
{
    PyObject *f = module_class(m, "Future");
    if (!f)
        return;
    ngr_sync_wrap_method(f, "__init__", NGR_W_NAME_INIT, NGR_SOBJ_FUTURE, "Future");
    ngr_sync_wrap_method(f, "set_result", NGR_W_SEND_PRE, 0, NULL);
    ngr_sync_wrap_method(f, "set_exception", NGR_W_SEND_PRE, 0, NULL);
    ngr_sync_wrap_method(f, "result", NGR_W_RECV_FINISHED, 0, NULL);
    ngr_sync_wrap_method(f, "exception", NGR_W_RECV_FINISHED, 0, NULL);
    ngr_sync_wrap_method(f, "done", NGR_W_RECV_TRUE, 0, NULL);
    /* on a finished future the callback runs right here, in the caller */
    ngr_sync_wrap_method(f, "add_done_callback", NGR_W_RECV_FINISHED, 0, NULL);
    remember_class(f, NGR_SOBJ_FUTURE);
}

static void patch_c_queue(PyObject *m)
{
    PyObject *sq = module_class(m, "SimpleQueue");
    if (sq && ngr_sync_patch_simplequeue(m) == 0)
        remember_class(sq, NGR_SOBJ_QUEUE);
}

static const struct {
    const char *name, *marker;      /* marker: a class that exists once the module has run */
    void (*patch)(PyObject *m);
} patches[] = {
    {"threading", "Barrier", patch_threading},
    {"queue", "PriorityQueue", patch_queue},
    {"_queue", "SimpleQueue", patch_c_queue},
    {"concurrent.futures._base", "Future", patch_futures},
    {"_interpreters", "InterpreterError", ngr_subinterp_patch},
};
#define N_PATCHES (sizeof patches / sizeof *patches)
static _Atomic int patched[N_PATCHES];

void ngr_sync_module_loaded(const char *name, PyObject *module)
{
    for (size_t i = 0; i < N_PATCHES; i++) {
        if (strcmp(name, patches[i].name) != 0 || atomic_load(&patched[i]))
            continue;
        if (!module_class(module, patches[i].marker))
            return;                 /* inserted before it ran: wait for the re-insertion */
        int expected = 0;
        if (atomic_compare_exchange_strong(&patched[i], &expected, 1)) {
            patches[i].patch(module);
            ngr_log(1, "sync: patched %s", name);
        }
        return;
    }
}

/* ---- sys.modules watcher ------------------------------------------------------------------- */

static int modules_watcher(PyDict_WatchEvent ev, PyObject *dict, PyObject *key, PyObject *value)
{
    (void)dict;
    if ((ev != PyDict_EVENT_ADDED && ev != PyDict_EVENT_MODIFIED) || !key || !value ||
        !PyUnicode_Check(key) || !PyModule_Check(value))
        return 0;
    PyObject *exc = PyErr_GetRaisedException();
    ngr_gil_check(key, value);
    const char *name = PyUnicode_AsUTF8(key);
    if (name)
        ngr_sync_module_loaded(name, value);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return 0;
}

int ngr_sync_py_init(void)
{
    wrap_type = (PyTypeObject *)PyType_FromSpec(&wrap_spec);
    if (!wrap_type)
        return -1;
    /* Already imported ones first. */
    PyObject *modules = PyImport_GetModuleDict();
    for (size_t i = 0; i < N_PATCHES; i++) {
        PyObject *m = NULL;
        if (PyDict_GetItemStringRef(modules, patches[i].name, &m) > 0 && PyModule_Check(m))
            ngr_sync_module_loaded(patches[i].name, m);
        Py_XDECREF(m);
        PyErr_Clear();
    }
    int id = PyDict_AddWatcher(modules_watcher);
    if (id < 0 || PyDict_Watch(id, modules) < 0) {
        PyErr_Clear();
        ngr_log(0, "sync: no dict watcher left; modules imported later are not observed");
        return -1;
    }
    return 0;
}
