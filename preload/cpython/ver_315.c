/* ver_315.c — CPython 3.15 internals for the hooks (see ver.h).
 *
 * Frames are 3.14's (ver_stackref_frames.h); bytecode is decoded with 3.15's own opcode metadata
 * (ver_decode.h).  What changed for the hooks: for loops over lists keep the list and an index on
 * the stack instead of an iterator object (GET_ITER's operand, the iterable, is read before it
 * runs, as before); an extension module's GIL requirement is the md_requires_gil flag; and module
 * globals may hold lazy-import placeholders (`lazy import x`), replaced at first use.
 *
 * Ported from the 3.15 headers (Debian's libpython3.15-dev) and tested on the default build; the
 * free-threaded differences are those 3.14's port handles under Py_GIL_DISABLED.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "internal/pycore_interpframe.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#include "internal/pycore_lazyimportobject.h"
#pragma GCC diagnostic pop

#include "ver.h"

#if PY_VERSION_HEX < 0x030F0000 || PY_VERSION_HEX >= 0x03100000
#error "ver_315.c is for CPython 3.15"
#endif

#include "ver_stackref_frames.h"
#include "ver_decode.h"
#include "ver_objects.h"

int ngr_v_decode(PyCodeObject *co, struct ngr_insn **insns, int *n_units, void **vdata)
{
    *vdata = NULL; /* frames keep their stack pointer: nothing more to compute */
    return decode_code(co, insns, n_units, NULL);
}

int ngr_v_module_needs_gil(PyObject *module)
{
#ifdef Py_GIL_DISABLED
    if (!PyModule_Check(module) || !PyModule_GetDef(module)) {
        PyErr_Clear();
        return 0; /* not an extension module */
    }
    return ((PyModuleObject *)module)->md_requires_gil;
#else
    (void)module;
    return 0;
#endif
}

bool ngr_v_is_lazy_import(PyObject *v)
{
    return PyLazyImport_CheckExact(v);
}

bool ngr_v_has_lazy_imports(void)
{
    return true;
}

bool ngr_v_deque_copy_atomic(void)
{
    return true;
}
