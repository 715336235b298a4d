/* globals.c — reads of module globals: LOAD_GLOBAL, and `mod.x` through a module object.
 *
 * The value read decides whether a global is state: functions, classes and modules are code
 * (decided once per instruction, which is then switched off).  A global bound once and never
 * rebound is a constant binding: once recorded, the instruction is switched off until the
 * variable is written again (record.c restarts the events), so hot loops over constants run at
 * full speed.  Writes are not here: the dict watcher (watch.c) sees every write to a module dict.
 */
#include "site.h"

/* In a LOAD_GLOBAL cache entry: the value was a constant binding when the variable was resolved. */
#define CACHE_CONST 0x80000000u

/* Numbers and strings, but also the module-level dict, list, lock or object that the program then
 * uses through that name (accesses to the object itself are traced as its own variable).  None
 * and bools are left out: they are the usual sentinels of lazy initialisation and flags, whose
 * every read matters to check-then-act. */
static bool constant_value(PyObject *v)
{
    return v != Py_None && !PyBool_Check(v);
}

/* Remember the variable this instruction resolved to, for these globals (see the hot path). */
static void cache_put(const struct ngr_site *s, _Atomic uint64_t *cache, uint64_t tag,
                      uint32_t epoch, uint32_t var, bool constant)
{
    struct ngr_codeinfo *ci = s->ci;
    if (!cache || var >= CACHE_CONST)
        return;
    if (atomic_load_explicit(&ci->cache_epoch, memory_order_relaxed) != epoch) {
        /* entries of an older epoch: drop them all, then count from this one (an entry another
         * thread stores meanwhile is for its own live globals: still right) */
        for (int u = 0; u < ci->n_units; u++)
            atomic_store_explicit(&cache[u], 0, memory_order_relaxed);
        atomic_store_explicit(&ci->cache_epoch, epoch, memory_order_release);
    }
    atomic_store_explicit(&cache[s->unit], tag << 32 | var | (constant ? CACHE_CONST : 0),
                          memory_order_relaxed);
}

/* The variable of global `name` of module dict `globals` when the program has rebound the code it
 * held (a monkeypatch), else 0. */
static uint32_t patched_var(PyObject *globals, PyObject *name)
{
    if (!atomic_load_explicit(&ngr_patches_seen, memory_order_acquire))
        return 0;
    const char *m = ngr_vars_module_name(globals);
    uint32_t var = m ? ngr_vars_named_maybe(globals, name, m) : 0;
    return ngr_patch_is_patched(var) ? var : 0;
}

enum ngr_verdict ngr_on_load_global(const struct ngr_site *s)
{
    PyObject *globals = ngr_v_frame_globals(s->f);
    /* Hot path: this instruction already resolved to a variable of these globals.  The tag is
     * the dict's address, which a freed dict hands on to the next: one code object run in
     * namespace after namespace (exec of a compiled template into fresh module dicts) would read
     * the first one's variable.  So the entries of a code object count only while no traced
     * module dict has been freed since they were made (the epoch; module dicts are rarely freed,
     * and a free costs each code object one refill). */
    uint64_t tag = (uint64_t)(uintptr_t)globals >> 4 & 0xffffffffu;
    _Atomic uint64_t *cache = ngr_codeinfo_cache(s->ci);
    uint32_t epoch = atomic_load_explicit(&ngr_globals_epoch, memory_order_acquire);
    uint64_t c = cache && atomic_load_explicit(&s->ci->cache_epoch, memory_order_relaxed) == epoch
                     ? atomic_load_explicit(&cache[s->unit], memory_order_relaxed) : 0;
    if (c && (c >> 32) == tag) {
        uint32_t var = (uint32_t)c & ~CACHE_CONST;
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ, var, 0);
        /* back after a restart_events(): a constant binding is switched off again */
        return (c & CACHE_CONST) && ngr_acc_may_disable(var) ? NGR_DISABLE : NGR_KEEP;
    }
    PyObject *name = ngr_site_name(s);
    if (!globals || !PyDict_CheckExact(globals) || !name || ngr_is_dunder(name))
        return NGR_DISABLE;
    /* The value decides whether this is state; a module dict holding non-str keys cannot be
     * searched without possibly calling a user __eq__, so there every global counts. */
    int unsafe = 0;
    PyObject *v = ngr_v_dict_get_str(globals, name, &unsafe);
    if (!unsafe && (!v || ngr_is_code_like(v))) {
        /* A builtin, a function, a class or a module: code, not state.  Decided once per
         * instruction, so that calling module functions costs nothing after the first call —
         * unless the program has rebound this very name (patches.c). */
        uint32_t pv = v ? patched_var(globals, name) : 0;
        if (!pv)
            return NGR_DISABLE;
        cache_put(s, cache, tag, epoch, pv, false);
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ, pv, 0);
        return NGR_KEEP;
    }
    bool constant = !unsafe && v && constant_value(v) &&
                    !ngr_codeinfo_writes(s->ci, NGR_I_STORE_GLOBAL, NGR_I_DELETE_GLOBAL, s->arg);
    const char *m = ngr_vars_module_name(globals);
    uint32_t var = 0;
    /* Not traced: a module we leave out, one that found no room in the namespace table, a
     * variable that found none in the variable table (decided once per site). */
    if (!m || !ngr_module_wanted(m) || !ngr_watch_module_dict(globals) ||
        !(var = ngr_vars_named(globals, name, m, NGR_VAR_GLOBAL)))
        return NGR_DISABLE;
    cache_put(s, cache, tag, epoch, var, constant);
    ngr_acc_emit(s->f, s->off, NGR_ACC_READ, var, 0);
    return constant && ngr_acc_may_disable(var) ? NGR_DISABLE : NGR_KEEP;
}

enum ngr_verdict ngr_read_module_attr(const struct ngr_site *s, PyObject *module, PyObject *name)
{
    PyObject *md = PyModule_GetDict(module);
    int unsafe = 0;
    PyObject *v = md ? ngr_v_dict_get_str(md, name, &unsafe) : NULL;
    if (v && !unsafe && ngr_is_code_like(v)) {
        /* `os.path`, `mod.func`: code, not state — unless rebound by the program (patches.c) */
        uint32_t pv = patched_var(md, name);
        if (!pv)
            return NGR_DISABLE;
        ngr_acc_emit(s->f, s->off, NGR_ACC_READ, pv, 0);
        return NGR_KEEP;
    }
    if (!v && !unsafe)
        return NGR_KEEP;    /* not there (yet): an AttributeError, or a later definition */
    const char *m = ngr_vars_module_name(md);
    bool wanted = m && ngr_module_wanted(m);
    uint32_t var = wanted && ngr_watch_module_dict(md) ? ngr_vars_named(md, name, m, NGR_VAR_GLOBAL) : 0;
    if (!var)
        /* no room in a table: not traced, decided once per site; an untraced module: it may
         * be another module at this site next time */
        return wanted ? NGR_DISABLE : NGR_KEEP;
    ngr_acc_emit(s->f, s->off, NGR_ACC_READ, var, 0);
    /* `mod.CONSTANT`: as for LOAD_GLOBAL (a site's module rarely changes) */
    return !unsafe && v && constant_value(v) && ngr_acc_may_disable(var) ? NGR_DISABLE : NGR_KEEP;
}
