/* items.c — items of traced containers: `c[k]` loads, stores and deletes, `k in c`, and truth
 * tests (`if pending:`, a read of the whole container).
 *
 * Each is one atomic operation of the container in the free-threaded build (NGR_ACC_FLAG_ATOMIC):
 * the analyzer reports the sequences built from them, not the operations.  Items of dicts and
 * sets, and `obj[k]` on a traced object, are told apart by key (vars.c: exact str/int/bytes/
 * None/bool and tuples of those), a list's, deque's or bytearray's by index.  A traced object's __dict__ used as a dict
 * (vars(obj)[k], obj.__dict__.get(k)) accesses that object's attributes.
 */
#include "site.h"

uint32_t ngr_dict_attr_var(PyObject *dict, PyObject *key)
{
    if (!PyDict_Check(dict) || !key || !PyUnicode_CheckExact(key))
        return 0;
    PyObject *owner = ngr_vars_dict_owner(dict);
    return owner ? ngr_vars_attr(ngr_vars_tracked(owner), key) : 0;
}

/* Which item an access touches: items of a dict or set, and of a traced object's own mapping
 * protocol (a WeakValueDictionary, an OrderedDict-like class: obj[k] runs its __getitem__), by key;
 * items of a list, deque or bytearray by index (`PARTIALS[i] += x` in thread i touches item i
 * only; a negative index is an item of its own, as the analyzer cannot know the length).  0 = the
 * whole container: no key, a slice, anything else. */
static uint64_t item_key(PyObject *container, PyObject *key)
{
    if (!key)
        return 0;
    if (ngr_is_keyed_container(container) || !ngr_is_container_like(container))
        return ngr_vars_key(key);
    return PyLong_CheckExact(key) ? ngr_vars_key(key) : 0;
}

bool ngr_emit_item(const struct ngr_site *s, unsigned kind, PyObject *container, PyObject *key)
{
    uint32_t var = ngr_vars_tracked(container);
    if (!var) {
        /* a traced object's __dict__ used as a dict: its attributes, before the dict itself */
        uint32_t av = ngr_dict_attr_var(container, key);
        unsigned base = kind & ~NGR_ACC_FLAG_ATOMIC;
        if (av) {
            ngr_acc_emit(s->f, s->off, base == NGR_ACC_CONTAINS ? NGR_ACC_READ : base, av, 0);
            return true;
        }
        var = ngr_site_object_var(s, container);
        if (!var)
            return false;
    }
    ngr_acc_emit(s->f, s->off, kind, var, item_key(container, key));
    return true;
}

/* A site whose container is not traced stays on only while it could be (a container). */
static enum ngr_verdict item_access(const struct ngr_site *s, unsigned kind, PyObject *container,
                                    PyObject *key)
{
    if (!container)
        return NGR_KEEP;
    if (ngr_emit_item(s, kind | NGR_ACC_FLAG_ATOMIC, container, key))
        return NGR_KEEP;
    return ngr_is_container_like(container) ? NGR_KEEP : NGR_DISABLE;
}

enum ngr_verdict ngr_on_subscript(const struct ngr_site *s)
{
    if (!ngr_site_stack_known(s, 2))
        return NGR_DISABLE;
    PyObject *key = ngr_site_peek(s, 1), *container = ngr_site_peek(s, 2);
    if (!key)
        return NGR_KEEP;
    unsigned kind = s->kind == NGR_I_SUBSCR ? NGR_ACC_READ
                    : s->kind == NGR_I_STORE_SUBSCR ? NGR_ACC_WRITE : NGR_ACC_DELETE;
    /* A slice store or delete on a sequence changes which item sits at every index after it; a
     * deleted index shifts all later ones: both are a write of the whole container. */
    if (kind != NGR_ACC_READ && container && !ngr_is_keyed_container(container) &&
        ngr_is_container_like(container) && (PySlice_Check(key) || kind == NGR_ACC_DELETE)) {
        kind = NGR_ACC_CLEAR;
        key = NULL;
    }
    return item_access(s, kind, container, key);
}

enum ngr_verdict ngr_on_contains(const struct ngr_site *s)
{
    if (!ngr_site_stack_known(s, 2))
        return NGR_DISABLE;
    PyObject *container = ngr_site_peek(s, 1), *item = ngr_site_peek(s, 2);
    if (!item || !container)
        return NGR_KEEP;
    if (ngr_is_container_like(container) && !ngr_is_keyed_container(container)) {
        /* `x in seq` looks at every item: a read of the whole sequence, which a later write in
         * the same activation acts on (`if x not in lst: lst.append(x)`).  A list's walk takes no
         * lock (an answer another thread's write can make wrong); a deque's holds it. */
        bool atomic = !PyList_Check(container) && !PyByteArray_Check(container);
        ngr_emit_item(s, NGR_ACC_CONTAINS | (atomic ? NGR_ACC_FLAG_ATOMIC : 0), container, NULL);
        return NGR_KEEP;
    }
    return item_access(s, NGR_ACC_CONTAINS, container, item);
}

enum ngr_verdict ngr_on_truth_test(const struct ngr_site *s)
{
    if (!ngr_site_stack_known(s, 1))
        return NGR_DISABLE;
    return item_access(s, NGR_ACC_READ, ngr_site_peek(s, 1), NULL);
}
