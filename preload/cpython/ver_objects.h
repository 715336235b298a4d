/* ver_objects.h — object internals the version layer reads, the same in every version (3.13 to
 * 3.15): dict views' dv_dict, the keys table's kind, the owning thread in an object's header,
 * the kinds of a code object's fast locals, a cell's content.  Included by one ver_<XY>.c
 * (one per build), after the interpreter's internal/pycore_dict.h: function definitions, not
 * declarations.
 */
#ifndef NGR_CPYTHON_VER_OBJECTS_H
#define NGR_CPYTHON_VER_OBJECTS_H

PyObject *ngr_v_dictview_dict(PyObject *view)
{
    if (!PyDictKeys_Check(view) && !PyDictValues_Check(view) && !PyDictItems_Check(view))
        return NULL;
    return (PyObject *)((_PyDictViewObject *)view)->dv_dict;
}

PyObject *ngr_v_dict_get_str(PyObject *dict, PyObject *name, int *unsafe)
{
    int dummy;
    if (!unsafe)
        unsafe = &dummy;
    *unsafe = 0;
    if (!dict || !PyDict_Check(dict) || !name || !PyUnicode_CheckExact(name))
        return NULL;
    /* A str-only keys table compares keys by identity and unicode equality only.  A concurrent
     * insertion of a non-str key replaces ma_keys; reading the pointer once keeps us on the table
     * we checked (the lookup itself goes through the dict and may see the new table: a window
     * accepted for a race the program itself started). */
    PyDictKeysObject *keys = FT_ATOMIC_LOAD_PTR_ACQUIRE(((PyDictObject *)dict)->ma_keys);
    if (!keys || !DK_IS_UNICODE(keys)) {
        *unsafe = 1;
        return NULL;
    }
    PyObject *v = PyDict_GetItemWithError(dict, name);
    if (!v)
        PyErr_Clear();
    return v;
}

PyObject *ngr_v_dict_get_cstr(PyObject *dict, const char *name)
{
    PyObject *s = PyUnicode_InternFromString(name);
    if (!s) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *v = ngr_v_dict_get_str(dict, s, NULL);
    Py_DECREF(s);
    return v;
}

PyObject *ngr_v_local_name(PyCodeObject *co, int i, bool *own)
{
    PyObject *names = co->co_localsplusnames, *kinds = co->co_localspluskinds;
    if (i < 0 || !PyTuple_Check(names) || i >= PyTuple_GET_SIZE(names) || !PyBytes_Check(kinds) ||
        i >= PyBytes_GET_SIZE(kinds))
        return NULL;
    _PyLocals_Kind k = _PyLocals_GetKind(kinds, i);
    *own = (k & CO_FAST_CELL) && !(k & CO_FAST_FREE);
    return PyTuple_GET_ITEM(names, i);
}

PyObject *ngr_v_cell_peek(PyObject *cell)
{
    return FT_ATOMIC_LOAD_PTR_RELAXED(((PyCellObject *)cell)->ob_ref);
}

int ngr_v_owned_by_caller(PyObject *obj)
{
#ifdef Py_GIL_DISABLED
    /* ob_tid: the thread that owns the object for biased reference counting (0 once its counts
     * were merged, after another thread kept it alive) */
    return _Py_IsOwnedByCurrentThread(obj) ? 1 : 0;
#else
    (void)obj;
    return -1;
#endif
}

#endif
