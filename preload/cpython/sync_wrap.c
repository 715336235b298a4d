/* sync_wrap.c — installing a calling-convention-matched wrapper (sync_wrap.h). */
#include "sync_wrap.h"

#include <string.h>

#include "sync_internal.h"

/* The flags that decide how a method is called (METH_CLASS, METH_STATIC, METH_COEXIST do not). */
#define CONVENTION (METH_VARARGS | METH_KEYWORDS | METH_NOARGS | METH_O | METH_FASTCALL | METH_METHOD)

static PyCFunction wrapper_for(int flags, const struct ngr_cwrap_fns *fns)
{
    switch (flags & CONVENTION) {
    case METH_NOARGS: return fns->noargs;
    case METH_O: return fns->o;
    case METH_VARARGS: return fns->varargs;
    case METH_VARARGS | METH_KEYWORDS: return fns->varargs_kw;
    case METH_FASTCALL: return fns->fast;
    case METH_FASTCALL | METH_KEYWORDS: return fns->fast_kw;
    case METH_METHOD | METH_FASTCALL | METH_KEYWORDS: return fns->method_fast_kw;
    default: return NULL;
    }
}

bool ngr_cwrap_patch_def(PyMethodDef *def, struct ngr_cwrap *slot, const struct ngr_cwrap_fns *fns)
{
    PyCFunction w = wrapper_for(def->ml_flags, fns);
    if (!w) {
        ngr_log(1, "sync: %s has calling convention %#x, not one we wrap; not observed", slot->what,
                (unsigned)def->ml_flags);
        return false;
    }
    if (def->ml_meth == w)
        return true; /* patched before (a table entry shared by two names) */
    slot->real = (void (*)(void))def->ml_meth;
    def->ml_meth = w;
    return true;
}

bool ngr_cwrap_patch(PyMethodDef *table, const char *name, struct ngr_cwrap *slot,
                     const struct ngr_cwrap_fns *fns)
{
    for (PyMethodDef *m = table; m && m->ml_name; m++)
        if (strcmp(m->ml_name, name) == 0)
            return ngr_cwrap_patch_def(m, slot, fns);
    return false;
}
