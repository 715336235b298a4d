/* opinfo.c — opcode facts of the running interpreter, read once from its `opcode` module.
 *
 * Reading them at init (stdlib code, main thread, before user code) instead of compiling in
 * numbers keeps one source for every 3.x whose bytecode has the same shape.
 */
#include "acc.h"

NGR_HIDDEN struct ngr_ops ngr_op;

static int opnum(PyObject *opmap, const char *name)
{
    PyObject *v = PyDict_GetItemString(opmap, name); /* borrowed; opmap is a plain dict */
    if (!v || !PyLong_Check(v))
        return -1;
    long n = PyLong_AsLong(v);
    return n >= 0 && n < 256 ? (int)n : -1;
}

static void mark_list(PyObject *mod, const char *attr, uint8_t *table)
{
    PyObject *lst = PyObject_GetAttrString(mod, attr);
    if (!lst) {
        PyErr_Clear();
        return;
    }
    PyObject *seq = PySequence_Fast(lst, "");
    if (seq) {
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            long n = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
            if (n >= 0 && n < 256)
                table[n] = 1;
        }
        Py_DECREF(seq);
    }
    PyErr_Clear();
    Py_DECREF(lst);
}

int ngr_opinfo_init(void)
{
    PyObject *mod = PyImport_ImportModule("opcode");
    if (!mod)
        goto fail;
    PyObject *opmap = PyObject_GetAttrString(mod, "opmap");
    PyObject *caches = PyObject_GetAttrString(mod, "_inline_cache_entries");
    if (!opmap || !caches || !PyDict_Check(opmap) || !PyDict_Check(caches)) {
        Py_XDECREF(opmap);
        Py_XDECREF(caches);
        Py_DECREF(mod);
        goto fail;
    }
    struct ngr_ops *o = &ngr_op;
#define OP(n) o->n = opnum(opmap, #n)
    OP(EXTENDED_ARG); OP(CACHE); OP(LOAD_GLOBAL); OP(LOAD_ATTR); OP(STORE_ATTR); OP(DELETE_ATTR);
    OP(BINARY_SUBSCR); OP(STORE_SUBSCR); OP(DELETE_SUBSCR); OP(CONTAINS_OP); OP(GET_ITER);
    OP(FOR_ITER); OP(END_FOR); OP(CALL); OP(LOAD_SUPER_ATTR); OP(POP_TOP); OP(TO_BOOL); OP(STORE_GLOBAL); OP(DELETE_GLOBAL);
#undef OP
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(opmap, &pos, &k, &v)) {
        long n = PyLong_AsLong(v);
        if (n >= 0 && n < 256)
            o->valid[n] = 1;
    }
    pos = 0;
    while (PyDict_Next(caches, &pos, &k, &v)) {
        int n = PyUnicode_Check(k) ? opnum(opmap, PyUnicode_AsUTF8(k)) : -1;
        long c = PyLong_AsLong(v);
        if (n >= 0 && c >= 0 && c < 256)
            o->caches[n] = (uint8_t)c;
    }
    PyErr_Clear();
    mark_list(mod, "hasjrel", o->jrel);
    static const char *const backward[] = {"JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT"};
    for (size_t i = 0; i < sizeof backward / sizeof *backward; i++) {
        int n = opnum(opmap, backward[i]);
        if (n >= 0)
            o->jback[n] = 1;
    }
    static const char *const noflow[] = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT",
                                         "RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
                                         "INTERPRETER_EXIT", "RETURN_GENERATOR_NOPE"};
    for (size_t i = 0; i < sizeof noflow / sizeof *noflow; i++) {
        int n = opnum(opmap, noflow[i]);
        if (n >= 0)
            o->noflow[n] = 1;
    }
    Py_DECREF(opmap);
    Py_DECREF(caches);
    Py_DECREF(mod);
    if (o->EXTENDED_ARG < 0 || o->LOAD_GLOBAL < 0 || o->CALL < 0 || o->LOAD_ATTR < 0)
        return -1;
    return 0;
fail:
    PyErr_Clear();
    return -1;
}
