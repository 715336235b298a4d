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

static bool is_deque_type(PyTypeObject *tp)
{
    for (; tp; tp = tp->tp_base)
        if (!strcmp(tp->tp_name, "collections.deque"))
            return true;
    return false;
}

bool ngr_is_keyed_container(PyObject *c)
{
    return PyDict_Check(c) || (PyAnySet_Check(c) && !PyFrozenSet_Check(c));
}

bool ngr_is_container_like(PyObject *o)
{
    return PyDict_Check(o) || PyList_Check(o) || (PyAnySet_Check(o) && !PyFrozenSet_Check(o)) ||
           PyByteArray_Check(o) || ngr_v_dictview_dict(o) || is_deque_type(Py_TYPE(o));
}

bool ngr_is_iterator(PyObject *o)
{
    /* iterator types return themselves from iter() and move on next(): list/dict/set/tuple
     * iterators, generators, enumerate, zip, map, itertools ...  (file objects are their own
     * iterators too, through iobase_iter, and lock themselves: left out) */
    PyTypeObject *tp = Py_TYPE(o);
    return tp->tp_iter == PyObject_SelfIter && tp->tp_iternext && !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE);
}

bool ngr_is_instance_trackable(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    return (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && ngr_vars_is_class_of_wanted(tp);
}
