/* site.h — one monitored instruction, and the handlers that observe it.
 *
 * monitor.c receives every instrumented instruction, decodes nothing itself (codeinfo.c holds
 * the version layer's decoding), and calls the handler for the instruction's kind from a table:
 *
 *   globals.c      LOAD_GLOBAL, and `mod.x` reads through a module object
 *   attributes.c   obj.x / Cls.x loads, stores and deletes (modules' go to globals.c and, for
 *                  writes, to the dict watcher)
 *   items.c        c[k] loads, stores, deletes; `k in c`; truth tests of containers
 *   iteration.c    `for x in c`: a span from GET_ITER to the loop's exit
 *   calls.c        container methods (d.get, lst.append ...) and builtins reading a container
 *                  (len, list(), sorted() ...)
 *   cells.c        closure variables: LOAD_DEREF, STORE_DEREF, DELETE_DEREF, and a class body's
 *                  LOAD_FROM_DICT_OR_DEREF
 *
 * A handler returns NGR_DISABLE when this instruction can never touch traced state (sys.monitoring
 * then stops reporting it), NGR_KEEP otherwise.  Handlers read the operand stack only through
 * ngr_site_peek and never run Python code.
 */
#ifndef NGR_CPYTHON_SITE_H
#define NGR_CPYTHON_SITE_H

#include "acc.h"

struct ngr_site {
    PyCodeObject *co;
    struct ngr_codeinfo *ci;
    ngr_vframe *f;       /* the monitored frame (its code is co) */
    int off;             /* byte offset of the instruction */
    int unit;            /* off / 2 */
    int32_t arg;         /* the decoded argument (see enum ngr_insn_kind) */
    uint8_t kind;        /* enum ngr_insn_kind */
};

enum ngr_verdict { NGR_KEEP = 0, NGR_DISABLE = 1 };

typedef enum ngr_verdict (*ngr_site_handler)(const struct ngr_site *s);

/* The operand-stack value n places from the top (1 = TOS) before the instruction; NULL when
 * unknown. */
static inline PyObject *ngr_site_peek(const struct ngr_site *s, int n)
{
    return ngr_v_peek(s->f, s->ci->vdata, s->unit, n);
}

/* False when the stack at this instruction can never be read n deep (switch the site off). */
static inline bool ngr_site_stack_known(const struct ngr_site *s, int n)
{
    return ngr_v_stack_known(s->ci->vdata, s->unit, n);
}

/* Is this code part of the synchronisation machinery (threading's Condition, queue.Queue ...)?
 * Their containers are shared between threads by design and guarded by the locks the sync hooks
 * observe: only what module state they hold is traced (decided once per code object). */
static inline bool ngr_site_machinery(const struct ngr_site *s)
{
    int8_t m = atomic_load_explicit(&s->ci->machinery, memory_order_relaxed);
    if (m < 0) {
        const char *mod = ngr_vars_module_name(ngr_v_frame_globals(s->f));
        m = mod && ngr_vars_sync_module(mod);
        atomic_store_explicit(&s->ci->machinery, m, memory_order_relaxed);
    }
    return m;
}

/* The variable of an object a site touches: traced module state anywhere; objects shared between
 * threads outside the synchronisation machinery. */
static inline uint32_t ngr_site_object_var(const struct ngr_site *s, PyObject *obj)
{
    return ngr_site_machinery(s) ? ngr_vars_tracked(obj) : ngr_traced_var(obj);
}

/* co_names[s->arg] (borrowed), NULL if out of range. */
static inline PyObject *ngr_site_name(const struct ngr_site *s)
{
    PyObject *names = s->co->co_names;
    return s->arg >= 0 && s->arg < PyTuple_GET_SIZE(names) ? PyTuple_GET_ITEM(names, s->arg) : NULL;
}

/* ---- handlers -------------------------------------------------------------------------------- */
NGR_HIDDEN enum ngr_verdict ngr_on_load_global(const struct ngr_site *s);   /* globals.c */
NGR_HIDDEN enum ngr_verdict ngr_on_load_attr(const struct ngr_site *s);     /* attributes.c */
NGR_HIDDEN enum ngr_verdict ngr_on_store_attr(const struct ngr_site *s);    /* attributes.c */
NGR_HIDDEN enum ngr_verdict ngr_on_subscript(const struct ngr_site *s);     /* items.c */
NGR_HIDDEN enum ngr_verdict ngr_on_contains(const struct ngr_site *s);      /* items.c */
NGR_HIDDEN enum ngr_verdict ngr_on_truth_test(const struct ngr_site *s);    /* items.c */
NGR_HIDDEN enum ngr_verdict ngr_on_get_iter(const struct ngr_site *s);      /* iteration.c */
NGR_HIDDEN enum ngr_verdict ngr_on_call(const struct ngr_site *s);          /* calls.c */
NGR_HIDDEN enum ngr_verdict ngr_on_load_deref(const struct ngr_site *s);    /* cells.c */
NGR_HIDDEN enum ngr_verdict ngr_on_store_deref(const struct ngr_site *s);   /* cells.c */

/* iteration.c: next(it) or a loop over `it` when it is a traced iterator or generator: a read and
 * a write of its position.  False (nothing emitted) when it is not one. */
NGR_HIDDEN bool ngr_iter_advance(const struct ngr_site *s, PyObject *it);
/* iteration.c: a loop exit was reached (NGR_IF_LOOP_EXIT): end the spans opened for it. */
NGR_HIDDEN void ngr_iter_loop_exit(const struct ngr_site *s);

/* globals.c: `mod.name` read through the module object (a LOAD_ATTR on a module). */
NGR_HIDDEN enum ngr_verdict ngr_read_module_attr(const struct ngr_site *s, PyObject *module,
                                                  PyObject *name);

/* items.c: one access to an item of a container (key NULL: the whole container), or to an
 * attribute when `container` is a traced object's __dict__.  False when the container is not
 * traced. */
NGR_HIDDEN bool ngr_emit_item(const struct ngr_site *s, unsigned kind, PyObject *container,
                              PyObject *key);
/* items.c: the variable of attribute `key` when `dict` is the __dict__ of a traced object, else 0. */
NGR_HIDDEN uint32_t ngr_dict_attr_var(PyObject *dict, PyObject *key);

#endif
