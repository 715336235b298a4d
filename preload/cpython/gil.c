/* gil.c — the GIL turned back on by an extension module (free-threaded builds only).
 *
 * Importing a C extension that does not declare Py_mod_gil = Py_MOD_GIL_NOT_USED enables the GIL
 * for the rest of the run (with a RuntimeWarning).  The check runs whenever a module lands in
 * sys.modules (sync_py.c's watcher): extension modules are inserted after they were created, i.e.
 * after the GIL decision, so the first module seen with the GIL newly on is the one that did it.
 * The state is read with sys._is_gil_enabled (a C function: no user code).
 */
#include <string.h>

#include "sync_internal.h"

#ifdef Py_GIL_DISABLED
static PyObject *is_gil_enabled;    /* sys._is_gil_enabled, kept for good */
static _Atomic int gil_on;

static int gil_state(void)
{
    PyObject *r = PyObject_CallNoArgs(is_gil_enabled);
    int on = r == Py_True ? 1 : r == Py_False ? 0 : -1;
    Py_XDECREF(r);
    if (on < 0)
        PyErr_Clear();
    return on;
}

int ngr_gil_init(void)
{
    is_gil_enabled = PySys_GetObject("_is_gil_enabled");    /* borrowed */
    if (!is_gil_enabled)
        return -1;
    Py_INCREF(is_gil_enabled);
    atomic_store(&gil_on, gil_state() == 1);
    return 0;
}

void ngr_gil_check(PyObject *module_name)
{
    if (!is_gil_enabled || !ngr_tracing())
        return;
    int on = gil_state();
    if (on < 0 || on == atomic_load(&gil_on))
        return;
    int was = !on;
    if (!atomic_compare_exchange_strong(&gil_on, &was, on))
        return;
    Py_ssize_t len = 0;
    const char *s = PyUnicode_AsUTF8AndSize(module_name, &len);
    if (!s) {
        PyErr_Clear();
        s = "?";
        len = 1;
    }
    ngr_note_gil(on, ngr_intern_string(s, (size_t)len));
    ngr_log(1, "sync: the GIL was %s by module %s", on ? "enabled" : "disabled", s);
}
#else
int ngr_gil_init(void) { return 0; }
void ngr_gil_check(PyObject *module_name) { (void)module_name; }
#endif
