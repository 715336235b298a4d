/* attributes.c — `obj.x` and `Cls.x`: loads, stores and deletes of attributes.
 *
 * Class attributes are variables of the class's namespace ("app.Registry.count"), read here and
 * written through the dict watcher on the class dict (watch.c), like module globals.  Attributes
 * of traced objects (objects reachable from module state, vars.c) are variables under the
 * object's name ("app.METRICS.requests"), read and written here.  Modules' attributes are globals
 * (globals.c).
 */
#include "site.h"

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

static enum ngr_verdict read_class_attr(const struct ngr_site *s, PyTypeObject *cls, PyObject *name)
{
    PyObject *v = NULL;
    PyTypeObject *t = class_owner(cls, name, &v);
    if (v && ngr_is_code_like(v)) {
        /* `Cls.method`: code, not state — unless rebound by the program (patches.c) */
        const char *cn = t && atomic_load_explicit(&ngr_patches_seen, memory_order_acquire)
                             ? ngr_vars_class_name(t) : NULL;
        uint32_t pv = cn && *cn ? ngr_vars_named_maybe(t->tp_dict, name, cn) : 0;
        if (!ngr_patch_is_patched(pv))
            return NGR_DISABLE;
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ, pv, 0);
        return NGR_KEEP;
    }
    /* a class that found no room in the namespace table is not traced */
    if (t && v && ngr_vars_is_class_of_wanted(t) && ngr_watch_class(t))
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ,
                     ngr_vars_named(t->tp_dict, name, ngr_vars_class_name(t), NGR_VAR_CLASS_ATTR), 0);
    return NGR_KEEP;
}

enum ngr_verdict ngr_on_load_attr(const struct ngr_site *s)
{
    PyObject *name = ngr_site_name(s);
    if (!ngr_site_stack_known(s, 1) || !name || ngr_is_dunder(name))
        return NGR_DISABLE;
    PyObject *owner = ngr_site_peek(s, 1);
    if (!owner)
        return NGR_KEEP;
    if (PyModule_Check(owner))
        return ngr_read_module_attr(s, owner, name);
    if (PyType_Check(owner))
        return read_class_attr(s, (PyTypeObject *)owner, name);
    if (s->kind == NGR_I_LOAD_METHOD)
        return NGR_DISABLE; /* a method load (`obj.meth()`) is not a state read */
    uint32_t ov = ngr_site_object_var(s, owner);
    if (ov) {
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ, ngr_vars_attr(ov, name), 0);
        return NGR_KEEP;
    }
    /* an attribute of a str, a list, a stdlib object ...: never one of ours */
    return ngr_is_instance_trackable(owner) ? NGR_KEEP : NGR_DISABLE;
}

/* `obj.name = value` with a container as the value: that is what it is called if it becomes
 * shared ("app.CONFIG.settings", or "app.Config().settings" when the object it is stored in is not
 * traced itself). */
static void hint_stored_value(const struct ngr_site *s, uint32_t ov, PyObject *owner, PyObject *name)
{
    PyObject *v = ngr_site_peek(s, 2);
    bool container = v && ngr_is_container_like(v) && !ngr_v_dictview_dict(v);
    if (!v || !(container || ngr_is_instance_trackable(v)))
        return;
    /* Storing is a touch: in default builds, which keep no owner in the object, this thread is
     * its first (free-threaded builds know it made the object) */
    ngr_site_object_var(s, v);
    if (!container)
        return; /* objects of classes are named by their class */
    char buf[512];
    const char *an = PyUnicode_AsUTF8(name);
    if (!an) {
        PyErr_Clear();
        return;
    }
    const char *on = ngr_vars_name(ov);
    if (on) {
        snprintf(buf, sizeof buf, "%s.%s", on, an);
    } else {
        const char *cls = ngr_vars_class_name(Py_TYPE(owner));
        snprintf(buf, sizeof buf, "%s().%s", cls && *cls ? cls : "?", an);
    }
    ngr_shared_hint(v, ngr_vars_intern(buf));
}

enum ngr_verdict ngr_on_store_attr(const struct ngr_site *s)
{
    PyObject *name = ngr_site_name(s);
    if (!ngr_site_stack_known(s, 1) || !name)
        return NGR_DISABLE;
    PyObject *owner = ngr_site_peek(s, 1);
    if (!owner)
        return NGR_KEEP;
    /* modules and classes: the dict watcher records it */
    if (PyModule_Check(owner) || PyType_Check(owner))
        return NGR_DISABLE;
    bool trackable = ngr_is_instance_trackable(owner);
    uint32_t ov = ngr_site_object_var(s, owner);
    if (trackable && s->kind == NGR_I_STORE_ATTR)
        hint_stored_value(s, ov, owner, name);
    if (ov) {
        ngr_acc_emit(s->f, s->off, s->kind == NGR_I_STORE_ATTR ? NGR_ACC_WRITE : NGR_ACC_DELETE,
                     ngr_vars_attr(ov, name), 0);
        return NGR_KEEP;
    }
    return trackable ? NGR_KEEP : NGR_DISABLE;
}
