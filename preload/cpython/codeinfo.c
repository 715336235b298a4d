/* codeinfo.c — per code object: its decoded instructions, kept in the code object's co_extra slot.
 *
 * The version layer decodes the bytecode once (ngr_v_decode: the instruction kinds the hooks
 * observe, and what it needs to read this code's frames later); here it is cached on first use,
 * together with what the hooks add per instruction: location ids (file, function, line) for
 * stacks, the LOAD_GLOBAL cache of globals.c, the closure variables' names of cells.c.
 */
#include "acc.h"

#include <stdlib.h>
#include <string.h>

static Py_ssize_t extra_index = -1;
static ngr_spin set_lock;

static void info_free(void *p)
{
    struct ngr_codeinfo *ci = p;
    if (!ci)
        return;
    free(ci->insn);
    ngr_v_free_vdata(ci->vdata);
    free((void *)ci->loc);
    free((void *)ci->cache);
    free((void *)ci->cells);
    free(ci);
}

int ngr_codeinfo_init(void)
{
    extra_index = PyUnstable_Eval_RequestCodeExtraIndex(info_free);
    return extra_index < 0 ? -1 : 0;
}

static struct ngr_codeinfo *analyse(PyCodeObject *co)
{
    struct ngr_codeinfo *ci = calloc(1, sizeof *ci);
    if (!ci)
        return NULL;
    if (ngr_v_decode(co, &ci->insn, &ci->n_units, &ci->vdata) != 0) {
        free(ci);
        return NULL;
    }
    ci->machinery = -1;
    ci->loc = calloc((size_t)ci->n_units + 1, sizeof *ci->loc);
    if (!ci->loc) {
        info_free(ci);
        return NULL;
    }
    char buf[2048];
    size_t len;
    const char *s;
    if ((s = ngr_str_utf8(co->co_filename, buf, sizeof buf, &len)))
        ci->file_str = ngr_intern_string(s, len);
    if ((s = ngr_str_utf8(co->co_qualname, buf, sizeof buf, &len)))
        ci->func_str = ngr_intern_string(s, len);
    return ci;
}

struct ngr_codeinfo *ngr_codeinfo_get(PyCodeObject *co)
{
    void *p = NULL;
    if (PyUnstable_Code_GetExtra((PyObject *)co, extra_index, &p) == 0 && p)
        return p;
    PyErr_Clear();
    struct ngr_codeinfo *ci = analyse(co);
    if (!ci)
        return NULL;
    ngr_spin_lock(&set_lock);
    p = NULL;
    if (PyUnstable_Code_GetExtra((PyObject *)co, extra_index, &p) == 0 && p) {
        ngr_spin_unlock(&set_lock);
        info_free(ci);
        return p;
    }
    if (PyUnstable_Code_SetExtra((PyObject *)co, extra_index, ci) != 0) {
        PyErr_Clear();
        ngr_spin_unlock(&set_lock);
        info_free(ci);
        return NULL;
    }
    ngr_spin_unlock(&set_lock);
    return ci;
}

/* The zeroed array of n + 1 words kept in *slot, made by its first user: most code objects
 * (module bodies, code run once) never need one.  NULL without memory. */
static _Atomic uint64_t *words_once(_Atomic(_Atomic uint64_t *) *slot, size_t n)
{
    _Atomic uint64_t *c = atomic_load_explicit(slot, memory_order_acquire);
    if (c)
        return c;
    _Atomic uint64_t *fresh = calloc(n + 1, sizeof *fresh);
    if (!fresh)
        return NULL;
    _Atomic uint64_t *expected = NULL;
    if (atomic_compare_exchange_strong(slot, &expected, fresh))
        return fresh;
    free((void *)fresh);
    return expected;
}

_Atomic uint64_t *ngr_codeinfo_cache(struct ngr_codeinfo *ci)
{
    return words_once(&ci->cache, (size_t)ci->n_units);
}

_Atomic uint64_t *ngr_codeinfo_cells(PyCodeObject *co, struct ngr_codeinfo *ci)
{
    return words_once(&ci->cells, 2 * (size_t)co->co_nlocalsplus);
}

bool ngr_codeinfo_writes(const struct ngr_codeinfo *ci, uint8_t store, uint8_t del, int32_t arg)
{
    for (int u = 0; u < ci->n_units; u++)
        if ((ci->insn[u].kind == store || ci->insn[u].kind == del) && ci->insn[u].arg == arg)
            return true;
    return false;
}

uint32_t ngr_codeinfo_location(PyCodeObject *co, struct ngr_codeinfo *ci, int offset)
{
    int unit = offset / 2;
    if (unit < 0 || unit >= ci->n_units)
        return 0;
    uint32_t id = atomic_load_explicit(&ci->loc[unit], memory_order_acquire);
    if (id)
        return id;
    int line = PyCode_Addr2Line(co, offset);
    id = ngr_new_location_id();
    ngr_define_location(id, ci->file_str, ci->func_str, line > 0 ? (uint32_t)line : 0);
    /* Two threads may both define one: harmless, the later id wins and both are valid. */
    atomic_store_explicit(&ci->loc[unit], id, memory_order_release);
    return id;
}
