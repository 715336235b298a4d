/* gil.c — the GIL turned back on by an extension module (free-threaded builds only).
 *
 * Importing a C extension that does not declare Py_mod_gil = Py_MOD_GIL_NOT_USED enables the GIL
 * for the rest of the run (with a RuntimeWarning, whose formatting imports more modules first, so
 * "the first module imported after the switch" is not the culprit).  The module object itself
 * says it: 3.13's PyModuleObject.md_gil is Py_MOD_GIL_USED for such an extension.  So whenever a
 * module lands in sys.modules (sync_py.c's watcher), an extension module (it has a PyModuleDef)
 * with md_gil == USED, seen while the GIL is on though it was off at start, is noted with its name
 * (each such module once).  Which field says so is version-specific (ngr_v_module_needs_gil); a
 * version that cannot tell falls back to noting the first module seen after the switch.
 */
#include <string.h>

#include "sync_internal.h"
#include "ver.h"

#ifdef Py_GIL_DISABLED
static PyObject *is_gil_enabled;    /* sys._is_gil_enabled, kept for good */
static bool off_at_start;
static _Atomic int noted_any;

#define MAX_NOTED 32
static PyObject *noted[MAX_NOTED];  /* module objects already noted (kept alive: never reused) */
static _Atomic int n_noted;

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
    off_at_start = gil_state() == 0;
    return 0;
}

static bool needs_gil(PyObject *module)
{
    int v = ngr_v_module_needs_gil(module);
    return v < 0 ? !atomic_load(&noted_any) : v == 1;
}

void ngr_gil_check(PyObject *module_name, PyObject *module)
{
    if (!off_at_start || !ngr_tracing() || !needs_gil(module) || gil_state() != 1)
        return;
    int n = atomic_load(&n_noted);
    for (int i = 0; i < n; i++)
        if (noted[i] == module)
            return;                 /* the re-insertion after exec: already noted */
    if (n < MAX_NOTED) {
        noted[n] = Py_NewRef(module);
        atomic_store(&n_noted, n + 1);
    }
    atomic_store(&noted_any, 1);
    Py_ssize_t len = 0;
    const char *s = PyUnicode_AsUTF8AndSize(module_name, &len);
    if (!s) {
        PyErr_Clear();
        s = "?";
        len = 1;
    }
    ngr_note_gil(true, ngr_intern_string(s, (size_t)len));
    ngr_log(1, "sync: the GIL is enabled; module %s needs it", s);
}
#else
int ngr_gil_init(void) { return 0; }
void ngr_gil_check(PyObject *module_name, PyObject *module) { (void)module_name; (void)module; }
#endif
