/* subinterp.c — sub-interpreters are named as untraced, in one warning note.
 *
 * sys.monitoring and dict watchers belong to one interpreter: the hooks are installed in the
 * main one, so code a sub-interpreter runs (concurrent.interpreters in 3.14+, the _interpreters
 * module under it) is not observed, and neither are its module globals.  Rather than report
 * nothing about it in silence, the first sub-interpreter created while tracing leaves one warning
 * note in the trace, which `nogilrace report` prints.  How: _interpreters.create is wrapped when
 * _interpreters is imported (sync_py.c's module watcher calls ngr_subinterp_patch); its
 * audit event, cpython.PyInterpreterState_New, is not raised for these (checked on 3.14).
 */
#include "acc.h"
#include "sync_wrap.h"

static _Atomic int noted;

static void after_create(PyObject *mod, PyObject *r, PyObject *arg0)
{
    (void)mod;
    (void)arg0;
    if (!r || atomic_load_explicit(&noted, memory_order_relaxed) || atomic_exchange(&noted, 1) ||
        !ngr_tracing())
        return;
    ngr_note(NGR_NOTE_WARNING, "a sub-interpreter was created (concurrent.interpreters, "
             "_interpreters.create): the code it runs is not traced, so races inside it are not "
             "reported");
    ngr_log(1, "sub-interpreter created: not traced");
}
NGR_CWRAP_DEFINE(w_create, "_interpreters.create", NULL, after_create);

void ngr_subinterp_patch(PyObject *module)
{
    PyObject *f = PyObject_GetAttrString(module, "create");
    if (f && PyCFunction_Check(f))
        ngr_cwrap_patch_def(((PyCFunctionObject *)f)->m_ml, &w_create, &w_create_fns);
    Py_XDECREF(f); /* the method table is static: it outlives the function object */
    PyErr_Clear();
}
