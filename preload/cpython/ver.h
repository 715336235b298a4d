/* ver.h — the one seam to a CPython version's internals: frame layouts and bytecode.
 *
 * Everything above this header is version-neutral: it sees frames as opaque handles and
 * instructions as the few kinds the hooks observe (enum ngr_insn_kind), never an opcode number or
 * a struct field of the interpreter.  One implementation per CPython minor version, compiled
 * against that interpreter's internal headers (the Makefile picks ver_<XY>.c and ver_<XY>_*.c by
 * $(PYTHON)'s version):
 *
 *   ver_313.c      3.13: frames hold PyObject pointers; the stack pointer is not kept during a
 *                  monitoring callback, so operand-stack depths come from a static flow analysis
 *                  (ver_313_depth.c)
 *   ver_314.c      3.14: frames hold tagged stack references (_PyStackRef) and keep the stack
 *                  pointer during callbacks; free-threaded frames run thread-local bytecode copies
 *   ver_315.c      3.15: as 3.14 (ver_stackref_frames.h holds what they share), plus iterators
 *                  that keep a list's index on the stack
 *
 * Every function is called with the calling thread attached, and none runs Python code.
 */
#ifndef NGR_CPYTHON_VER_H
#define NGR_CPYTHON_VER_H

#include <Python.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ngr_vframe ngr_vframe; /* a _PyInterpreterFrame, never dereferenced outside ver_*.c */

/* ---- frames ---------------------------------------------------------------------------------- */

/* The innermost Python frame of the calling thread that belongs to Python code (frames owned by
 * the C stack or the interpreter, and frames not yet started, are skipped); NULL when none. */
ngr_vframe *ngr_v_current_frame(void);
/* The next outer Python frame, with the same skipping; NULL at the bottom. */
ngr_vframe *ngr_v_frame_back(ngr_vframe *f);
/* The frame's code object (borrowed), or NULL if it is not a code object. */
PyCodeObject *ngr_v_frame_code(ngr_vframe *f);
/* Byte offset of the instruction the frame executes now (or is about to). */
int ngr_v_frame_offset(ngr_vframe *f);
/* The frame's globals dict (borrowed). */
PyObject *ngr_v_frame_globals(ngr_vframe *f);
/* The frame's fast local number i (borrowed, may be NULL). */
PyObject *ngr_v_frame_local(ngr_vframe *f, int i);

/* ---- instructions ---------------------------------------------------------------------------- */

/* What an instruction does, as far as the hooks care.  Everything else is NGR_I_NONE and is
 * switched off at first sight. */
enum ngr_insn_kind {
    NGR_I_NONE = 0,
    NGR_I_LOAD_GLOBAL,    /* arg: index in co_names */
    NGR_I_LOAD_ATTR,      /* obj.name: arg = co_names index; TOS = obj */
    NGR_I_LOAD_METHOD,    /* obj.name(...) method load: arg = co_names index; TOS = obj */
    NGR_I_STORE_ATTR,     /* obj.name = v: arg = co_names index; TOS = obj */
    NGR_I_DELETE_ATTR,    /* del obj.name: arg = co_names index; TOS = obj */
    NGR_I_SUBSCR,         /* c[k]: TOS = k, TOS1 = c */
    NGR_I_STORE_SUBSCR,   /* c[k] = v: TOS = k, TOS1 = c */
    NGR_I_DELETE_SUBSCR,  /* del c[k]: TOS = k, TOS1 = c */
    NGR_I_CONTAINS,       /* x in c: TOS = c, TOS1 = x */
    NGR_I_GET_ITER,       /* iter(x): TOS = x; arg = unit where its for loop is left, -1 if none */
    NGR_I_TO_BOOL,        /* truth test: TOS = value */
    NGR_I_CALL,           /* call: arg = argument count; callable at TOS(arg + 2), self-or-NULL at
                             TOS(arg + 1), argument i at TOS(arg - i) */
    NGR_I_STORE_GLOBAL,   /* arg: co_names index (never instrumented: module writes go through the
                             dict watcher; the kind says which functions write a global) */
    NGR_I_DELETE_GLOBAL,  /* likewise */
    NGR_I_LOAD_DEREF,     /* read of a closure variable (a cell): arg = its fast-local index
                             (ngr_v_frame_local gives the cell, ngr_v_local_name its name) */
    NGR_I_STORE_DEREF,    /* write of a closure variable: arg as NGR_I_LOAD_DEREF */
    NGR_I_DELETE_DEREF,   /* del of a closure variable: arg as NGR_I_LOAD_DEREF */
    NGR_I_LOAD_DICT_OR_DEREF, /* a class body's read of an enclosing function's variable: the
                             class namespace (TOS) first, then the cell; arg as NGR_I_LOAD_DEREF */
    NGR_I_KINDS
};

/* NGR_IF_LOOP_EXIT: the first instruction after a for loop (where an exhausted iterator lands):
 * whatever it is, it closes the loop's iteration span, so it stays instrumented. */
#define NGR_IF_LOOP_EXIT 1u

/* One code unit of a decoded code object: the instruction starting there (NGR_I_NONE inside
 * inline caches and on EXTENDED_ARG prefixes, whose instruction carries the full argument). */
struct ngr_insn {
    uint8_t kind;   /* enum ngr_insn_kind */
    uint8_t flags;  /* NGR_IF_* */
    int32_t arg;
};

/* Decode co into a new array of one ngr_insn per code unit (*n_units of them, malloc'ed, the
 * caller frees), and *vdata: whatever the version needs later to read this code's frames
 * (ngr_v_peek), malloc'ed or NULL, freed with ngr_v_free_vdata.  -1 when it cannot be done
 * (memory), with nothing allocated. */
int ngr_v_decode(PyCodeObject *co, struct ngr_insn **insns, int *n_units, void **vdata);
void ngr_v_free_vdata(void *vdata);

/* The operand-stack value n places from the top (n = 1 is TOS) before instruction `unit` of
 * frame f runs, borrowed; NULL when it cannot be known safely (then the hooks skip it rather than
 * guess: a stale slot could name a freed object).  vdata: ngr_v_decode's for f's code.  Only for
 * the instruction the frame is stopped at (a monitoring callback's). */
PyObject *ngr_v_peek(ngr_vframe *f, const void *vdata, int unit, int n);
/* Whether ngr_v_peek can ever see n values at instruction `unit` of this code (false: the depth
 * there is unknown for good, the site is best switched off). */
bool ngr_v_stack_known(const void *vdata, int unit, int n);

/* ---- objects --------------------------------------------------------------------------------- */

/* The underlying dict of a dict view (keys/values/items), borrowed, or NULL. */
PyObject *ngr_v_dictview_dict(PyObject *view);

/* dict[name] for an exact str `name`, borrowed, NULL if absent — but only when the dict holds
 * nothing but str keys, so that the lookup cannot call a user __eq__ (a key whose hash collides
 * with `name`).  Otherwise NULL with *unsafe set.  No exception is left set. */
PyObject *ngr_v_dict_get_str(PyObject *dict, PyObject *name, int *unsafe);
/* The same with a C string name. */
PyObject *ngr_v_dict_get_cstr(PyObject *dict, const char *name);

/* The name of fast local i of co (borrowed; NULL when out of range), and in *own whether co
 * itself made that local's cell (a cell variable: the function that owns the closure variable)
 * rather than receiving it from an enclosing function (a free variable). */
PyObject *ngr_v_local_name(PyCodeObject *co, int i, bool *own);

/* What a cell holds (borrowed; NULL when empty), read without taking the cell's lock.  In a
 * free-threaded build another thread may replace it meanwhile and drop the last reference: look at
 * its type only (the memory of freed objects stays readable while the thread is attached), never
 * at its contents, and never keep it. */
PyObject *ngr_v_cell_peek(PyObject *cell);

/* Free-threaded builds: 1 when the calling thread owns obj (its header's ob_tid: the thread that
 * made it, until another thread's references merged its counts), else 0; -1 in default builds,
 * which keep no owner. */
int ngr_v_owned_by_caller(PyObject *obj);

/* Is deque.copy() one atomic step (the deque's lock held across the copy)?  3.14 and later; 3.13
 * copies through the deque's iterator, whose per-item locking releases the deque between items
 * (gh-144809). */
bool ngr_v_deque_copy_atomic(void);

/* A 3.15 lazy import (`lazy import x`, `lazy from m import x`): the placeholder a module global
 * holds until its first use, when CPython replaces it by the imported object.  False before 3.15. */
bool ngr_v_is_lazy_import(PyObject *v);
/* Whether this version has lazy imports at all (so that callers can skip looking for them). */
bool ngr_v_has_lazy_imports(void);

/* Free-threaded builds: is `module` an extension module that declared it needs the GIL (its
 * import turns the GIL back on)?  -1 when this version cannot tell. */
int ngr_v_module_needs_gil(PyObject *module);

#endif
