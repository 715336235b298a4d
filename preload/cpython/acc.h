/* acc.h — what the access-hook files share (hidden inside nogilrace-<tag>.so).
 *
 * The path of one access: sys.monitoring calls monitor.c with (code, offset); codeinfo.c holds
 * that code's instructions, decoded by the version layer; the handler for the instruction's kind
 * (site.h: globals.c, attributes.c, items.c, iteration.c, calls.c, cells.c) reads the operand
 * stack through the version layer, resolves what it touches to a variable (vars.c) and hands it
 * to record.c, which filters repeated reads and writes the record with its stack (stacks.c).
 * Writes to module and class dicts come from the dict watcher instead (watch.c → record.c).
 *
 *   ver.h       the only place that knows frame layouts and opcode numbers (ver_<XY>.c)
 *   codeinfo.c  per code object: decoded instructions, location ids, the LOAD_GLOBAL cache; kept in
 *               the code object's co_extra slot
 *   classify.c  what an object is: code or state, container or not
 *   vars.c      variable ids: (namespace, name) → var_id, tracked objects (values of module globals
 *               and class attributes) → their names, dict keys → key_id
 *   record.c    the read filter (first read per thread, instruction and write epoch; constant
 *               bindings switched off until rebound), then the trace record
 *   stacks.c    Python stacks → interned stack ids (also for sync events: pystack.h); frame
 *               identities (frame_id)
 *   watch.c     dict watchers on sys.modules, module and class dicts: writes from anywhere
 *   patches.c   monkeypatching: rebinding a function, class or module held in a namespace
 *   shared.c    objects shared between threads at any depth: which, and their names
 *   cells.c     closure variables (cells) shared between threads
 *   subinterp.c sub-interpreters are not traced: one warning note says so when one is created
 *   hooks.c     ngr_hooks_init: wires everything up; an atexit callback stops recording
 *
 * Reach: module globals; class attributes; dict/list/set/deque/bytearray values of those (items,
 * keyed by content for exact str/int/bytes/bool/None and tuples of those); objects of user classes
 * that are values of those (their attributes, including through their __dict__).  What such an
 * object's attributes hold, and closure variables, are traced once a second thread touches them
 * (shared.c, cells.c).
 */
#ifndef NGR_CPYTHON_ACC_H
#define NGR_CPYTHON_ACC_H

#include <Python.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ngr_api.h"
#include "trace_format.h"
#include "ver.h"

#define NGR_HIDDEN __attribute__((visibility("hidden")))

/* ---- a spinlock for slow paths (never a pthread mutex: the shim would see it) ------------- */
typedef struct { atomic_flag f; } ngr_spin;
static inline void ngr_spin_lock(ngr_spin *s)
{
    while (atomic_flag_test_and_set_explicit(&s->f, memory_order_acquire))
        ;
}
static inline void ngr_spin_unlock(ngr_spin *s) { atomic_flag_clear_explicit(&s->f, memory_order_release); }

/* ---- codeinfo.c ---------------------------------------------------------------------------- */
struct ngr_codeinfo {
    int n_units;               /* code units (2 bytes each) */
    struct ngr_insn *insn;     /* the version layer's decoding, one entry per unit */
    void *vdata;               /* what the version layer keeps to read this code's frames */
    _Atomic uint32_t *loc;     /* location id per unit, 0 until first needed */
    _Atomic(_Atomic uint64_t *) cache; /* per unit: cached (namespace tag, var_id) for LOAD_GLOBAL;
                                          allocated on the first LOAD_GLOBAL that records */
    _Atomic uint32_t cache_epoch; /* ngr_globals_epoch the entries were made under (globals.c) */
    _Atomic int8_t machinery;  /* code of a synchronisation module (threading, queue ...): 1/0, -1
                                  until first asked (site.h) */
    _Atomic(_Atomic uint64_t *) cells; /* per fast local, two words: what cells.c keeps of its
                                  closure variable; allocated on the first *_DEREF that runs */
    uint32_t file_str, func_str;
};
NGR_HIDDEN int ngr_codeinfo_init(void);
/* The analysis of `co`, made on first use; NULL when it cannot be made (memory). */
NGR_HIDDEN struct ngr_codeinfo *ngr_codeinfo_get(PyCodeObject *co);
/* Location id of instruction `offset` (bytes) of co. */
NGR_HIDDEN uint32_t ngr_codeinfo_location(PyCodeObject *co, struct ngr_codeinfo *ci, int offset);
/* The LOAD_GLOBAL cache array of ci, allocated on first use; NULL without memory. */
NGR_HIDDEN _Atomic uint64_t *ngr_codeinfo_cache(struct ngr_codeinfo *ci);
/* The per-fast-local array of cells.c (2 * co_nlocalsplus words, zeroed), allocated on first
 * use; NULL without memory. */
NGR_HIDDEN _Atomic uint64_t *ngr_codeinfo_cells(PyCodeObject *co, struct ngr_codeinfo *ci);
/* Does the code hold an instruction of kind `store` or `del` (enum ngr_insn_kind) with argument
 * arg: does it write the variable it reads?  Such a function's reads of it are never switched off
 * as a constant's (globals.c, cells.c): its read and its later write must both be seen in every
 * call, or the next call's write would be paired with this call's read (frame ids are told apart
 * by the accesses we see) — a read-modify-write under a lock would then look like a lost update
 * across the lock's release. */
NGR_HIDDEN bool ngr_codeinfo_writes(const struct ngr_codeinfo *ci, uint8_t store, uint8_t del,
                                    int32_t arg);

/* ---- vars.c -------------------------------------------------------------------------------- */
NGR_HIDDEN int ngr_vars_init(void);
/* Module display name of a globals dict ("app" for the __main__ script, else __name__); NULL if
 * the dict has no usable __name__.  Interned, never freed. */
NGR_HIDDEN const char *ngr_vars_module_name(PyObject *globals);
/* var_id of name `name` (exact str) in namespace dict `ns` named `ns_name` ("app",
 * "app.Registry"); created on first use.  0 on failure. */
NGR_HIDDEN uint32_t ngr_vars_named(PyObject *ns, PyObject *name, const char *ns_name, unsigned kind);
/* Tracked objects: values of module globals and class attributes (one step of reach).  Register
 * obj under the display name `name`; the var_id of the object itself is returned. */
NGR_HIDDEN bool ngr_vars_track(PyObject *obj, const char *name);
/* Remember which tracked object sits under (namespace dict, exact-str name), returning the one
 * that sat there before (0 if none): how a rebinding untracks the old value without a dict
 * lookup (which could call a user __eq__).  NGR_HELD_FULL when a nonzero value could not be
 * remembered (table full): the caller untracks it, since nothing else would. */
NGR_HIDDEN uintptr_t ngr_vars_held_swap(PyObject *ns, PyObject *name, uintptr_t value);
#define NGR_HELD_FULL ((uintptr_t)1)
/* The namespace dict is being cleared or freed: its entry for `name` goes (a tombstone, reused). */
NGR_HIDDEN void ngr_vars_held_forget(PyObject *ns, PyObject *name);
/* A fixed-size table turned something away: the first call per flag writes `msg` as one warning
 * note in the trace (the report prints it); later calls cost one relaxed load. */
NGR_HIDDEN void ngr_acc_table_full(_Atomic int *once, const char *msg);
/* A namespace dict is going away: forget its module name (its address may be reused). */
NGR_HIDDEN void ngr_vars_forget_ns(PyObject *ns);
NGR_HIDDEN void ngr_vars_untrack(PyObject *obj);
/* The tracked object whose __dict__ `dict` is (borrowed, not owned), NULL if none. */
NGR_HIDDEN PyObject *ngr_vars_dict_owner(PyObject *dict);
/* var_id of a tracked object (its type must still match), 0 if obj is not tracked. */
NGR_HIDDEN uint32_t ngr_vars_tracked(PyObject *obj);
/* var_id of attribute `attr` of the object whose variable is objvar (a tracked or shared object:
 * "app.METRICS.requests", "app.Stats().hits"); 0 if objvar has no name. */
NGR_HIDDEN uint32_t ngr_vars_attr(uint32_t objvar, PyObject *attr);
/* The name of a variable of an object or a namespace member ("app.CONFIG"), NULL if unknown. */
NGR_HIDDEN const char *ngr_vars_name(uint32_t var);
/* The variable of (namespace, name) if it exists already, else 0 (nothing is made). */
NGR_HIDDEN uint32_t ngr_vars_named_maybe(PyObject *ns, PyObject *name, const char *ns_name);
/* A new variable for a shared object (shared.c), named `name` (kept once however many objects bear
 * it); 0 when a table is full. */
NGR_HIDDEN uint32_t ngr_vars_new_object(const char *name, unsigned kind);
/* One lasting copy of a name (interned by content); NULL when the table is full. */
NGR_HIDDEN const char *ngr_vars_intern(const char *name);
/* key_id of a dict key / set element; defines its repr on first use.  Only exact str, int,
 * bytes, and tuples of those are identified by content; anything else gives 0 (whole container). */
NGR_HIDDEN uint64_t ngr_vars_key(PyObject *key);
/* Is this a dict/class/module namespace of a module we trace? */
NGR_HIDDEN bool ngr_vars_is_class_of_wanted(PyTypeObject *tp);
/* threading, queue, concurrent.*, multiprocessing, asyncio, _thread: modules whose own objects are
 * synchronisation machinery (observed as such by the sync hooks), not program state. */
NGR_HIDDEN bool ngr_vars_sync_module(const char *module);
/* The display name of a class: "app.Registry" (interned). */
NGR_HIDDEN const char *ngr_vars_class_name(PyTypeObject *tp);
/* The UTF-8 text of exact str s (NULL for anything else), its length in *len if len is not NULL:
 * the str's own UTF-8 when it has one, else (lone surrogates: bytes of a file name that are not
 * UTF-8) written into buf (cap bytes, cut to fit) with those bytes as \xNN (ngr_utf8_escape).
 * Leaves no exception set; runs no Python code. */
NGR_HIDDEN const char *ngr_str_utf8(PyObject *s, char *buf, size_t cap, size_t *len);

/* ---- stacks.c ------------------------------------------------------------------------------ */
/* Interned Python stack starting at frame f, whose current instruction is at `offset` (bytes;
 * -1 = read it from the frame).  0 when none. */
NGR_HIDDEN uint32_t ngr_stack_here(ngr_vframe *f, int offset);
/* The function-activation identity of frame f at instruction `offset` (see stacks.c). */
NGR_HIDDEN uint64_t ngr_frame_id(ngr_vframe *f, PyCodeObject *co, int offset);

/* ---- record.c ------------------------------------------------------------------------------ */
/* Emit one access from the current frame f (offset -1 = the frame's current instruction). */
NGR_HIDDEN void ngr_acc_emit(ngr_vframe *f, int offset, unsigned kind, uint32_t var_id,
                             uint64_t key_id);

/* One instruction that reads and writes a variable in one unprotected step (next() on a shared
 * iterator): a read and a write of one function activation, never filtered. */
NGR_HIDDEN void ngr_acc_emit_rmw(ngr_vframe *f, int offset, uint32_t var_id, uint64_t key_id);

/* Reads of variable `var` at an instruction may be switched off (DISABLE) after being recorded:
 * true when the variable was written at most once so far and is not known to change; it is then
 * flagged, and its next write turns the instructions back on (ngr_monitor_restart). */
NGR_HIDDEN bool ngr_acc_may_disable(uint32_t var);

/* ---- what an object is (classify.c) ---------------------------------------------------------- */
/* Functions, classes, modules, lazy imports, methods, classmethods, properties: code, not state
 * (what a read of a global or an attribute can give). */
NGR_HIDDEN bool ngr_is_code_like(PyObject *v);
/* The same, and every other descriptor a class body defines: what a store into a module or class
 * namespace that is a definition, not a write of state, can hold. */
NGR_HIDDEN bool ngr_is_definition(PyObject *v);
/* __name__, __dict__ ...: interpreter bookkeeping, not program state. */
NGR_HIDDEN bool ngr_is_dunder(PyObject *name);
/* Could this object ever be a traced container (dict, list, set, deque, bytearray, dict view)? */
NGR_HIDDEN bool ngr_is_container_like(PyObject *o);
/* A dict or a (non-frozen) set: items are told apart by key. */
NGR_HIDDEN bool ngr_is_keyed_container(PyObject *c);
/* Once, at init: the type facts it needs (the deque type). */
NGR_HIDDEN int ngr_classify_init(void);
/* Could obj be shared between threads and traced as such (shared.c)?  *container: as a container
 * (dict, list, set, deque, bytearray, generator), else as an object of a class. */
NGR_HIDDEN bool ngr_is_shareable(PyObject *o, bool *container);
/* An iterator or generator of a built-in type: next() moves its position. */
NGR_HIDDEN bool ngr_is_iterator(PyObject *o);
/* Could an instance of this type be traced (an instance of a class of a traced module)? */
NGR_HIDDEN bool ngr_is_instance_trackable(PyObject *o);


/* ---- shared.c: objects shared between threads, at any depth -------------------------------- */
NGR_HIDDEN int ngr_shared_init(void);
/* The variable of a traced object: held in module state (vars.c) or shared between threads (the
 * first touch by a second thread makes it one).  0: not traced (not yet, or not traceable: only
 * containers and instances of classes of traced modules are). */
NGR_HIDDEN uint32_t ngr_traced_var(PyObject *obj);
/* The sharing half of it, for an object known to be traceable (container: a dict, list, set,
 * deque or bytearray). */
NGR_HIDDEN uint32_t ngr_shared_var(PyObject *obj, bool container);
/* obj was stored under `name` (interned): its name if it becomes shared. */
NGR_HIDDEN void ngr_shared_hint(PyObject *obj, const char *name);
/* The variable of a closure's cell, made when a second thread touches it (kind NGR_VAR_CLOSURE),
 * named by the hint its owner left (ngr_shared_hint), else `name` (interned); 0 while it is not
 * shared. */
NGR_HIDDEN uint32_t ngr_shared_cell_var(PyObject *cell, const char *name);
/* The variable of obj if it is traced as shared already, else 0: nothing is made. */
NGR_HIDDEN uint32_t ngr_shared_var_maybe(PyObject *obj);

/* ---- patches.c: functions, classes, modules rebound once the program runs ------------------- */
/* A definition in a module or class namespace was rebound (recorded as a write of var): its reads
 * are recorded from now on. */
NGR_HIDDEN void ngr_patch_written(uint32_t var);
NGR_HIDDEN bool ngr_patch_is_patched(uint32_t var);
/* Set at the first patch of the run: until then no read of code is worth a look. */
extern NGR_HIDDEN _Atomic int ngr_patches_seen;

/* ---- subinterp.c: a warning note when a sub-interpreter (untraced) is created ------------- */
/* Wrap _interpreters.create (called when that module has been imported). */
NGR_HIDDEN void ngr_subinterp_patch(PyObject *interpreters_module);

/* ---- monitor.c / watch.c ------------------------------------------------------------------- */
/* sys.monitoring.restart_events(): every DISABLEd instruction reports once more. */
NGR_HIDDEN void ngr_monitor_restart(void);
NGR_HIDDEN int ngr_monitor_init(void);
NGR_HIDDEN int ngr_watch_init(void);
/* Start watching a module's globals dict (and register its values as tracked).  True when it is
 * watched: false for a module we do not trace, or when the namespace table is full (then it is
 * not traced: without its writes its reads would only weigh on the trace). */
NGR_HIDDEN bool ngr_watch_module_dict(PyObject *globals);
/* Start watching a class's dict (and register its attribute values); true when it is watched. */
NGR_HIDDEN bool ngr_watch_class(PyTypeObject *tp);
/* Watch dict for its deallocation only (what vars.c caches by its address is evicted then);
 * false if it cannot be watched. */
NGR_HIDDEN bool ngr_watch_lifetime(PyObject *dict);

/* Counts the traced module globals dicts freed so far: LOAD_GLOBAL cache entries made before the
 * last such free may name a dead dict whose address came back (globals.c). */
extern NGR_HIDDEN _Atomic uint32_t ngr_globals_epoch;

/* Set when tracing must stop (finalisation); every hook checks it first. */
extern NGR_HIDDEN _Atomic int ngr_acc_off;

#endif
