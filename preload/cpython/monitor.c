/* monitor.c — the sys.monitoring INSTRUCTION callback: from an instruction to its handler.
 *
 * Each instruction offset reaches us once; the code's decoded instruction kind (codeinfo.c, from
 * the version layer) picks a handler from the table below (site.h lists them).  Kinds without a
 * handler, and sites a handler finds can never touch traced state, return DISABLE and cost nothing
 * afterwards.  Writes to module and class dicts are left to the dict watcher (watch.c), which also
 * sees writes from C code.
 */
#include "site.h"

static PyObject *disable;        /* sys.monitoring.DISABLE */
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

static enum ngr_verdict not_observed(const struct ngr_site *s)
{
    (void)s;
    return NGR_DISABLE;
}

static const ngr_site_handler handlers[NGR_I_KINDS] = {
    [NGR_I_NONE] = not_observed,
    [NGR_I_LOAD_GLOBAL] = ngr_on_load_global,
    [NGR_I_LOAD_ATTR] = ngr_on_load_attr,
    [NGR_I_LOAD_METHOD] = ngr_on_load_attr,
    [NGR_I_STORE_ATTR] = ngr_on_store_attr,
    [NGR_I_DELETE_ATTR] = ngr_on_store_attr,
    [NGR_I_SUBSCR] = ngr_on_subscript,
    [NGR_I_STORE_SUBSCR] = ngr_on_subscript,
    [NGR_I_DELETE_SUBSCR] = ngr_on_subscript,
    [NGR_I_CONTAINS] = ngr_on_contains,
    [NGR_I_GET_ITER] = ngr_on_get_iter,
    [NGR_I_TO_BOOL] = ngr_on_truth_test,
    [NGR_I_CALL] = ngr_on_call,
    [NGR_I_STORE_GLOBAL] = not_observed, /* the dict watcher sees module writes */
    [NGR_I_DELETE_GLOBAL] = not_observed,
    [NGR_I_LOAD_DEREF] = ngr_on_load_deref,
    [NGR_I_STORE_DEREF] = ngr_on_store_deref,
    [NGR_I_DELETE_DEREF] = ngr_on_store_deref,
    [NGR_I_LOAD_DICT_OR_DEREF] = ngr_on_load_deref,
};

static PyObject *on_instruction(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs < 2 || !PyCode_Check(args[0]) || !PyLong_Check(args[1]))
        return Py_NewRef(Py_None);
    if (atomic_load_explicit(&ngr_acc_off, memory_order_relaxed) || !ngr_tracing())
        return Py_NewRef(disable);
    struct ngr_site s = {.co = (PyCodeObject *)args[0], .off = (int)PyLong_AsLong(args[1])};
    s.unit = s.off / 2;
    s.ci = ngr_codeinfo_get(s.co);
    if (!s.ci || s.unit < 0 || s.unit >= s.ci->n_units)
        return Py_NewRef(disable);
    s.f = ngr_v_current_frame();
    if (!s.f || ngr_v_frame_code(s.f) != s.co)
        return Py_NewRef(Py_None);
    const struct ngr_insn *in = &s.ci->insn[s.unit];
    s.kind = in->kind < NGR_I_KINDS ? in->kind : NGR_I_NONE;
    s.arg = in->arg;
    PyObject *exc = PyErr_GetRaisedException();
    /* The first instruction after a for loop ends its iteration span; it stays instrumented
     * whatever it is. */
    bool loop_exit = in->flags & NGR_IF_LOOP_EXIT;
    if (loop_exit)
        ngr_iter_loop_exit(&s);
    enum ngr_verdict v = handlers[s.kind](&s);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return Py_NewRef(v == NGR_DISABLE && !loop_exit ? disable : Py_None);
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
