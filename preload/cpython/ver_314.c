/* ver_314.c — CPython 3.14 internals for the hooks (see ver.h).
 *
 * Frames hold tagged stack references and keep their stack pointer during monitoring callbacks
 * (ver_stackref_frames.h); bytecode is decoded with 3.14's own opcode metadata (ver_decode.h:
 * `c[k]` is BINARY_OP with NB_SUBSCR, a for loop ends with END_FOR, POP_ITER).  Free-threaded
 * builds specialise and keep thread-local copies of the bytecode: offsets are relative to the
 * frame's copy, and decoding reads the deoptimised code (PyCode_GetCode).
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "internal/pycore_interpframe.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#pragma GCC diagnostic pop

#include "ver.h"

#if PY_VERSION_HEX < 0x030E0000 || PY_VERSION_HEX >= 0x030F0000
#error "ver_314.c is for CPython 3.14"
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
    return ((PyModuleObject *)module)->md_gil == Py_MOD_GIL_USED;
#else
    (void)module;
    return 0;
#endif
}

bool ngr_v_is_lazy_import(PyObject *v)
{
    (void)v;
    return false; /* lazy imports came with 3.15 */
}

bool ngr_v_has_lazy_imports(void)
{
    return false;
}

bool ngr_v_deque_copy_atomic(void)
{
    return true;
}
