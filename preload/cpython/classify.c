/* classify.c — what kind of object a hook is looking at: code or state, container or not.
 *
 * Type checks only: nothing here runs Python code or looks an attribute up.
 */
#include "site.h"

#include <string.h>

bool ngr_is_code_like(PyObject *v)
{
    /* a lazy import is a module (or what it imports) not bound yet: code, as an import is */
    return PyFunction_Check(v) || ngr_v_is_lazy_import(v) || PyType_Check(v) || PyModule_Check(v) || PyCFunction_Check(v) ||
           PyMethod_Check(v) || Py_IS_TYPE(v, &PyClassMethodDescr_Type) ||
           Py_IS_TYPE(v, &PyStaticMethod_Type) || Py_IS_TYPE(v, &PyClassMethod_Type) ||
           Py_IS_TYPE(v, &PyProperty_Type);
}

bool ngr_is_definition(PyObject *v)
{
    return ngr_is_code_like(v) || Py_IS_TYPE(v, &PyMethodDescr_Type) ||
           Py_IS_TYPE(v, &PyWrapperDescr_Type) || Py_IS_TYPE(v, &PyGetSetDescr_Type) ||
           Py_IS_TYPE(v, &PyMemberDescr_Type);
}

bool ngr_is_dunder(PyObject *name)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(name, &n);
    if (!s) {
        PyErr_Clear();
        return false;
    }
    return n > 4 && s[0] == '_' && s[1] == '_' && s[n - 1] == '_' && s[n - 2] == '_';
}

/* ---- what a type is, cached --------------------------------------------------------------
 *
 * The hooks ask it of every object a kept instruction touches (`self.x` in a hot method), and the
 * checks are not all cheap: a set or bytearray test on anything else is a walk of its MRO
 * (PyType_IsSubtype), the class's module a table probe.  So a type's answers are computed once
 * and kept in a direct-mapped cache by type, valid while the type's version tag is (a type that
 * is changed, or a new type at a freed one's address, has another tag; a type without a tag is
 * never cached).  An entry is two words: the type, then its tag and answers with the type's low
 * bits, so that a reader racing with a writer of the same slot never takes another type's
 * answers. */
enum {
    TB_KEYED = 1,      /* dict or mutable set (or a subclass): items by key */
    TB_SEQ = 2,        /* list, bytearray, deque (or a subclass): items by index */
    TB_VIEW = 4,       /* dict view */
    TB_ITER = 8,       /* built-in iterator type (ngr_is_iterator) */
    TB_INSTANCE = 16,  /* a class of a traced module */
    TB_WEAKREF = 32,   /* its instances take weak references */
    TB_KNOWN = 128,
};
#define TYPE_CACHE 1024
static struct { _Atomic uintptr_t tp; _Atomic uint64_t val; } tcache[TYPE_CACHE];
static PyTypeObject *deque_type;

int ngr_classify_init(void)
{
    PyObject *m = PyImport_ImportModule("_collections");
    PyObject *t = m ? PyObject_GetAttrString(m, "deque") : NULL;
    Py_XDECREF(m);
    PyErr_Clear();
    if (t && PyType_Check(t))
        deque_type = (PyTypeObject *)t; /* kept for good */
    else
        Py_XDECREF(t);
    return 0;
}

static uint8_t compute_bits(PyTypeObject *tp)
{
    uint8_t b = TB_KNOWN;
    if (PyType_FastSubclass(tp, Py_TPFLAGS_DICT_SUBCLASS) || PyType_IsSubtype(tp, &PySet_Type))
        b |= TB_KEYED;
    if (PyType_FastSubclass(tp, Py_TPFLAGS_LIST_SUBCLASS) || PyType_IsSubtype(tp, &PyByteArray_Type) ||
        (deque_type && PyType_IsSubtype(tp, deque_type)))
        b |= TB_SEQ;
    if (tp == &PyDictKeys_Type || tp == &PyDictValues_Type || tp == &PyDictItems_Type)
        b |= TB_VIEW;
    if (tp->tp_iter == PyObject_SelfIter && tp->tp_iternext && !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
        b |= TB_ITER;
    if ((tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && ngr_vars_is_class_of_wanted(tp))
        b |= TB_INSTANCE;
    if (PyType_SUPPORTS_WEAKREFS(tp))
        b |= TB_WEAKREF;
    return b;
}

static uint8_t type_bits(PyTypeObject *tp)
{
    uint32_t version = __atomic_load_n(&tp->tp_version_tag, __ATOMIC_RELAXED);
    uintptr_t key = (uintptr_t)tp;
    size_t slot = (key >> 4 ^ key >> 12) & (TYPE_CACHE - 1);
    if (atomic_load_explicit(&tcache[slot].tp, memory_order_acquire) == key) {
        uint64_t v = atomic_load_explicit(&tcache[slot].val, memory_order_acquire);
        if (version && (uint32_t)(v >> 32) == version && (uint16_t)(v >> 16) == (uint16_t)key)
            return (uint8_t)v;
    }
    uint8_t b = compute_bits(tp);
    if (version) {
        atomic_store_explicit(&tcache[slot].tp, key, memory_order_relaxed);
        atomic_store_explicit(&tcache[slot].val, (uint64_t)version << 32 | (uint64_t)(uint16_t)key << 16 | b,
                              memory_order_release);
    }
    return b;
}

bool ngr_is_keyed_container(PyObject *c)
{
    return (type_bits(Py_TYPE(c)) & TB_KEYED) && !PyFrozenSet_Check(c);
}

bool ngr_is_container_like(PyObject *o)
{
    return (type_bits(Py_TYPE(o)) & (TB_KEYED | TB_SEQ | TB_VIEW)) && !PyFrozenSet_Check(o);
}

bool ngr_is_iterator(PyObject *o)
{
    /* iterator types return themselves from iter() and move on next(): list/dict/set/tuple
     * iterators, generators, enumerate, zip, map, itertools ...  (file objects are their own
     * iterators too, through iobase_iter, and lock themselves: left out) */
    return type_bits(Py_TYPE(o)) & TB_ITER;
}

bool ngr_is_instance_trackable(PyObject *o)
{
    return type_bits(Py_TYPE(o)) & TB_INSTANCE;
}

bool ngr_is_shareable(PyObject *o, bool *container)
{
    uint8_t b = type_bits(Py_TYPE(o));
    /* Only objects whose death can be seen (containers' deallocators, weak references): another
     * would be taken for its successor at the same address, of the same type, and pair accesses
     * of two unrelated objects.  So iterators only when held in module state (vars.c) — list and
     * dict iterators die unseen, by the million — but generators; objects of classes without
     * weak references (__slots__ without __weakref__) only in module state too. */
    *container = (b & (TB_KEYED | TB_SEQ)) || PyGen_CheckExact(o);
    if (*container)
        return !PyFrozenSet_Check(o);
    return (b & (TB_INSTANCE | TB_WEAKREF)) == (TB_INSTANCE | TB_WEAKREF);
}
