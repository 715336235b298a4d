/* cells.c — closure variables: a function's local that an inner function uses (`nonlocal count`).
 *
 * Such a variable lives in a cell object, which the function makes when it starts and its inner
 * functions receive in their closures; LOAD_DEREF reads it, STORE_DEREF and DELETE_DEREF write it,
 * and a class body reads an enclosing function's variable with LOAD_FROM_DICT_OR_DEREF.  A cell is
 * an object shared between threads like any other (shared.c): traced from the moment a second
 * thread touches it — in free-threaded builds any thread but the one that made it, the one that
 * ran the enclosing function — so a closure that one thread uses costs a lookup per access and is
 * never recorded.  A read of its content is a read of the variable, a store a write (key 0).  Each
 * cell is a variable of its own (kind closure): every call of the enclosing function makes new
 * cells, and two calls' counters must not be taken for one variable.
 *
 * Names: "app.main.<locals>.count" — the module, the qualified name of the function that owns the
 * variable, the variable.  Code owning the cell (a cell variable of it) knows that name exactly,
 * and leaves it as a hint on the cell when it stores into it (`count = 0`, shared.c's hints).
 * Code that received the cell (a free variable) knows only its own qualified name
 * ("main.<locals>.w") and takes the function enclosing it: the part before the last ".<locals>"
 * (class scopes in between do not hold closure variables).  That is the owner unless the variable
 * is passed through an intermediate function, whose name it then gets — unless the owner stored
 * into the cell first, which is the usual `x = ...` before the inner functions run.  A name is
 * worked out once per code object and local (ngr_codeinfo_cells).
 *
 * Code is not state: a read site that finds a function, a class or a module in the variable (a
 * decorator wrapper's `func`, a factory's `cls`) is switched off at first sight, as globals.c
 * does for globals — for every closure of that code, since sites belong to the code.  Storing into
 * a shared cell that held code counts as a patch (patches.c): recorded as a write, it turns the
 * read sites back on, and the variable's reads are recorded from then on.  A store by the thread
 * that made the closure, before another thread touched the cell, is not seen (it is not traced
 * yet).  Dunder names (`__class__`, `__classdict__`) and the closures of the synchronisation
 * machinery are never traced.  Variables bound once and then only read are switched off after
 * their first recorded read (below).
 */
#include "site.h"

#include <stdio.h>
#include <string.h>

/* What cells.c keeps per fast local of a code object (ngr_codeinfo_cells, two words):
 *   [2i]     0 until worked out, else the variable's interned name (malloc'ed: the low bits are
 *            free) with the bits below
 *   [2i + 1] the hash of its identifier, which picks its slot in name_flags (below) */
#define CELL_OWN 1u /* this code made the cell: a cell variable, the name is exact */
#define CELL_OFF 2u /* not traced: a dunder, synchronisation machinery, a module left out, no name */

struct cellinfo {
    uintptr_t name_bits;
    uint32_t slot;
};

/* ---- names ---------------------------------------------------------------------------------- */

static uintptr_t describe(const struct ngr_site *s, uint32_t *slot)
{
    bool own = false;
    PyObject *name = ngr_v_local_name(s->co, s->arg, &own);
    if (!name || !PyUnicode_CheckExact(name) || ngr_is_dunder(name) || ngr_site_machinery(s))
        return CELL_OFF;
    const char *mod = ngr_vars_module_name(ngr_v_frame_globals(s->f));
    if (!mod || !ngr_module_wanted(mod))
        return CELL_OFF;
    char qbuf[512], nbuf[256], full[900];
    const char *q = ngr_str_utf8(s->co->co_qualname, qbuf, sizeof qbuf, NULL);
    const char *n = ngr_str_utf8(name, nbuf, sizeof nbuf, NULL);
    if (!q || !n)
        return CELL_OFF;
    size_t qlen = strlen(q);
    if (!own) {
        /* the function enclosing this code: its qualified name up to the last ".<locals>" */
        for (const char *p = strstr(q, ".<locals>"); p; p = strstr(p + 1, ".<locals>"))
            qlen = (size_t)(p - q);
    }
    snprintf(full, sizeof full, "%s.%.*s.<locals>.%s", mod, (int)qlen, q, n);
    const char *kept = ngr_vars_intern(full);
    if (!kept || ((uintptr_t)kept & (CELL_OWN | CELL_OFF)))
        return CELL_OFF;
    *slot = (uint32_t)PyObject_Hash(name); /* exact str: its cached hash, no user code */
    return (uintptr_t)kept | (own ? CELL_OWN : 0);
}

static struct cellinfo cell_info(const struct ngr_site *s)
{
    _Atomic uint64_t *c = ngr_codeinfo_cells(s->co, s->ci);
    if (!c || s->arg < 0 || s->arg >= s->co->co_nlocalsplus)
        return (struct cellinfo){CELL_OFF, 0};
    uintptr_t v = atomic_load_explicit(&c[2 * s->arg], memory_order_acquire);
    if (v)
        return (struct cellinfo){v, (uint32_t)atomic_load_explicit(&c[2 * s->arg + 1], memory_order_relaxed)};
    /* two threads may both work it out: the same interned name, the same slot */
    uint32_t slot = 0;
    v = describe(s, &slot);
    atomic_store_explicit(&c[2 * s->arg + 1], slot, memory_order_relaxed);
    atomic_store_explicit(&c[2 * s->arg], v, memory_order_release);
    return (struct cellinfo){v, slot};
}

static const char *name_of(struct cellinfo ci)
{
    return (const char *)(ci.name_bits & ~(uintptr_t)(CELL_OWN | CELL_OFF));
}

/* ---- variables bound once ---------------------------------------------------------------------
 *
 * A closure variable bound once and then only read — the lock, the queue, the results list, the
 * limit that workers use in their loop — would cost a callback and a record lookup at every pass.
 * So, as globals.c does for globals bound once, a read site is switched off once it has recorded
 * a read of a shared cell that was written at most once (record.c's ngr_acc_may_disable), unless
 * the value is None or a bool (the sentinels of lazy initialisation and the flags, whose every read
 * matters to check-then-act) or the site's own code stores the variable (`count += 1`: its read and
 * its write must both be seen in every call).
 *
 * But a site belongs to the code, not to one closure: switched off, it no longer sees the cells
 * that later calls of the enclosing function make either, whose stores record.c's per-variable
 * flags know nothing of.  So what switches reads back on is keyed by the identifier: any store to
 * a closure variable of that name (by the owner in a later call, by another inner function; shared
 * or not) restarts the events once and makes the name volatile: its reads are never switched off
 * again.  Identifiers share slots by hash (a collision only costs a restart).  A store racing with
 * the decision to switch a site off may miss it (the window of record.c's own check): the reads
 * come back at the name's next store.  After MAX_REENABLES names came back, nothing is switched
 * off any more. */
#define NAME_SLOTS 4096u
#define NF_OFF 1u      /* some read site of the name was switched off */
#define NF_VOLATILE 2u /* stored after that: never switched off again */
#define MAX_REENABLES 256u
static _Atomic uint8_t name_flags[NAME_SLOTS];
static _Atomic uint32_t reenabled;

/* After a recorded read of var (holding v) at s: may the site be switched off? */
static bool reads_may_stop(const struct ngr_site *s, PyObject *v, uint32_t var, uint32_t slot)
{
    _Atomic uint8_t *f = &name_flags[slot % NAME_SLOTS];
    if (!v || v == Py_None || PyBool_Check(v) || (atomic_load(f) & NF_VOLATILE) ||
        atomic_load_explicit(&reenabled, memory_order_relaxed) >= MAX_REENABLES ||
        ngr_codeinfo_writes(s->ci, NGR_I_STORE_DEREF, NGR_I_DELETE_DEREF, s->arg) ||
        !ngr_acc_may_disable(var))
        return false;
    atomic_fetch_or(f, NF_OFF);
    return !(atomic_load(f) & NF_VOLATILE);
}

/* A store to a variable of this identifier: turn its read sites back on if some were switched
 * off. */
static void reads_restart(uint32_t slot)
{
    _Atomic uint8_t *f = &name_flags[slot % NAME_SLOTS];
    if (!(atomic_load_explicit(f, memory_order_relaxed) & NF_OFF) ||
        !(atomic_exchange(f, NF_VOLATILE) & NF_OFF))
        return;
    atomic_fetch_add_explicit(&reenabled, 1, memory_order_relaxed);
    ngr_monitor_restart();
}

/* ---- the hooks ------------------------------------------------------------------------------ */

/* The cell the instruction works on (borrowed: the frame holds it), NULL if that slot holds
 * something else (not a frame we understand: the site is switched off). */
static PyObject *site_cell(const struct ngr_site *s)
{
    PyObject *cell = ngr_v_frame_local(s->f, s->arg);
    return cell && PyCell_Check(cell) ? cell : NULL;
}

/* A class body's LOAD_FROM_DICT_OR_DEREF reads the cell only when the class namespace lacks the
 * name.  That is looked up only in an exact dict holding nothing but str keys (no user __eq__ can
 * run); another namespace (a metaclass's __prepare__ mapping) is left alone. */
static bool class_body_reads_cell(const struct ngr_site *s)
{
    bool own;
    PyObject *ns = ngr_site_peek(s, 1), *name = ngr_v_local_name(s->co, s->arg, &own);
    if (!ns || !name || !PyDict_CheckExact(ns))
        return false;
    int unsafe = 0;
    return !ngr_v_dict_get_str(ns, name, &unsafe) && !unsafe;
}

enum ngr_verdict ngr_on_load_deref(const struct ngr_site *s)
{
    struct cellinfo ci = cell_info(s);
    PyObject *cell = ci.name_bits & CELL_OFF ? NULL : site_cell(s);
    if (!cell || (s->kind == NGR_I_LOAD_DICT_OR_DEREF && !ngr_site_stack_known(s, 1)))
        return NGR_DISABLE;
    if (s->kind == NGR_I_LOAD_DICT_OR_DEREF && !class_body_reads_cell(s))
        return NGR_KEEP;
    PyObject *v = ngr_v_cell_peek(cell); /* its type only (ver.h) */
    if (v && ngr_is_code_like(v)) {
        /* code, not state — unless another thread rebound this very variable (a patch) */
        uint32_t pv = atomic_load_explicit(&ngr_patches_seen, memory_order_acquire)
                          ? ngr_shared_var_maybe(cell) : 0;
        if (!ngr_patch_is_patched(pv))
            return NGR_DISABLE;
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ, pv, 0);
        return NGR_KEEP;
    }
    uint32_t var = ngr_shared_cell_var(cell, name_of(ci));
    if (!var)
        return NGR_KEEP; /* one thread's so far: the site must stay on to see a second one */
    ngr_acc_emit(s->f, s->off, NGR_ACC_READ, var, 0);
    return reads_may_stop(s, v, var, ci.slot) ? NGR_DISABLE : NGR_KEEP;
}

enum ngr_verdict ngr_on_store_deref(const struct ngr_site *s)
{
    struct cellinfo ci = cell_info(s);
    PyObject *cell = ci.name_bits & CELL_OFF ? NULL : site_cell(s);
    if (!cell)
        return NGR_DISABLE;
    reads_restart(ci.slot);
    uint32_t var = ngr_shared_cell_var(cell, name_of(ci));
    if (!var) {
        /* the owner's store (`count = 0`): the exact name, for when it is shared */
        if (ci.name_bits & CELL_OWN)
            ngr_shared_hint(cell, name_of(ci));
        return NGR_KEEP;
    }
    PyObject *old = ngr_v_cell_peek(cell); /* its type only (ver.h) */
    ngr_acc_emit(s->f, s->off, s->kind == NGR_I_STORE_DEREF ? NGR_ACC_WRITE : NGR_ACC_DELETE, var, 0);
    if (old && ngr_is_code_like(old))
        ngr_patch_written(var); /* rebinding code others call: its reads are recorded from now on */
    return NGR_KEEP;
}
