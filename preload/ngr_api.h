/* ngr_api.h — what libnogilrace.so offers the CPython hooks library (nogilrace-<tag>.so).
 *
 * The hooks library is dlopen()ed by libnogilrace.so once the running interpreter is known, so
 * these symbols (the only ones libnogilrace.so exports besides its libc/pthread hooks) resolve to
 * the preload.  Nothing here runs Python code or takes the GIL.
 *
 * Hot-path functions (ngr_emit_*) are lock-free and allocation-free in the common case: they write
 * into the calling thread's chunk of the shared trace mapping.  They are safe to call from any
 * thread, including threads the preload has not seen start (those get a thread number on first
 * use), and are no-ops when tracing is off or the calling thread is inside the shim already.
 *
 * Metadata functions (ngr_define_*, ngr_intern_string) take a short internal spinlock; call them
 * on first sight of a thing and cache the id they return.
 */
#ifndef NGR_API_H
#define NGR_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NGR_API __attribute__((visibility("default")))

/* ---- state ------------------------------------------------------------------------------- */

/* True while this process writes a trace (false outside Python, after a disk-full stop, during
 * finalisation once ngr_stop() was called). */
NGR_API bool ngr_tracing(void);

/* The calling thread's number (1 = the thread that activated tracing; numbered by creation). */
NGR_API uint32_t ngr_thread_num(void);

/* How many synchronisation and thread events the calling thread has written so far: two accesses
 * made with the same value in between saw the same locks held and the same happens-before
 * position (what the hooks' same-thread redundancy filter compares).  Lock-free, TLS read. */
NGR_API uint32_t ngr_thread_sync_serial(void);

/* Stop recording for good (interpreter finalisation): later ngr_emit_* calls do nothing. */
NGR_API void ngr_stop(void);

/* ---- options (parsed once from the environment by the preload) ---------------------------- */

struct ngr_options {
    const char *trace_dir;        /* NOGILRACE_TRACE_DIR, default "." */
    unsigned stack_depth;         /* NOGILRACE_STACK_DEPTH: Python frames per access, default 8 */
    bool native_stacks;           /* NOGILRACE_NATIVE_STACKS=1: libunwind stacks on sync events */
    const char *include;          /* NOGILRACE_INCLUDE: comma-separated module globs, NULL = all */
    const char *exclude;          /* NOGILRACE_EXCLUDE: comma-separated module globs, NULL = none */
    int debug;                    /* NOGILRACE_DEBUG: 0 quiet, 1 info, 2 verbose */
    bool every_event;             /* NOGILRACE_EVERY_EVENT=1: write every access and lock operation
                                     (no read filter, no repeat filter, no elided lock round) */
};
NGR_API const struct ngr_options *ngr_options(void);

/* True when module name `mod` passes the include/exclude patterns. */
NGR_API bool ngr_module_wanted(const char *mod);

/* ---- events (hot path) -------------------------------------------------------------------- */

/* One access to a variable (trace_format.h, NGR_OP_ACCESS). kind is enum ngr_access_kind, maybe
 * with NGR_ACC_FLAG_ATOMIC. */
NGR_API void ngr_emit_access(unsigned kind, uint32_t var_id, uint64_t key_id, uint64_t frame_id,
                             uint32_t stack_id);

/* One synchronisation event (NGR_OP_SYNC); takes the next sequence number. count is the RLock
 * depth for NGR_SYNC_*_ALL, else 0.  stack_id NGR_STACK_LAZY: the stack provider's, asked only if
 * the record is written (a lock taken back right after its release is not: events.c). */
NGR_API void ngr_emit_sync(unsigned kind, uint64_t obj_id, uint32_t count, uint32_t stack_id);
#define NGR_STACK_LAZY 0xffffffffu
/* Who gives the Python stack of a lazy sync record (the hooks library: its ngr_py_stack_id);
 * called in the recording thread, outside the shim. */
NGR_API void ngr_set_stack_provider(uint32_t (*fn)(void));

/* Begin (begin = true) or end of a named span of the calling thread (NGR_OP_MARK): label is
 * the span's name (len bytes, UTF-8; a test id such as "tests/test_cache.py::test_fill"), phase
 * an ngr_mark_phase.  The analyzer attributes each access to the span active in its thread; a
 * thread spawned inside a span inherits it.  Interns the label (the metadata lock): for marks
 * that are rare, as a test's phases are, not for the hot path. */
NGR_API void ngr_emit_mark(const char *label, size_t len, unsigned phase, bool begin);

/* ---- metadata (slow path, cache the results) ---------------------------------------------- */

/* Id of a string (deduplicated: the same bytes give the same id). 0 on failure. */
NGR_API uint32_t ngr_intern_string(const char *s, size_t len);

/* Fresh ids for the caller to define; never 0. */
NGR_API uint32_t ngr_new_var_id(void);
NGR_API uint32_t ngr_new_location_id(void);
NGR_API uint32_t ngr_new_stack_id(void);

NGR_API void ngr_define_var(uint32_t var_id, unsigned var_kind, uint32_t name_str,
                            uint32_t parent_var);
NGR_API void ngr_define_key(uint64_t key_id, unsigned key_kind, uint32_t repr_str);
NGR_API void ngr_define_location(uint32_t loc_id, uint32_t file_str, uint32_t func_str,
                                 uint32_t line);
NGR_API void ngr_define_stack(uint32_t stack_id, const uint32_t *loc_ids, unsigned depth);
NGR_API void ngr_define_sync_obj(uint64_t obj_id, unsigned sobj_kind, uint32_t name_str);
NGR_API void ngr_define_thread_name(uint32_t thread_num, uint32_t name_str);
NGR_API void ngr_define_process(unsigned process_flags, uint32_t version_str, uint32_t cmdline_str);
NGR_API void ngr_note_gil(bool enabled, uint32_t module_str);
NGR_API void ngr_note(unsigned note_kind, const char *msg);

/* bytes (n of them) as UTF-8 text in out (cap bytes, always terminated, cut between whole
 * characters): every byte that is not part of a valid UTF-8 sequence is written as \xNN, as
 * Python's backslashreplace does.  Returns the length written.  For file names and command lines
 * holding bytes that are not UTF-8 (kept as surrogates by Python's surrogateescape). */
NGR_API size_t ngr_utf8_escape(const char *bytes, size_t n, char *out, size_t cap);

/* ---- diagnostics ------------------------------------------------------------------------- */

/* printf-style line to stderr prefixed "nogilrace: ", only when NOGILRACE_DEBUG >= level (level 0
 * always prints: use for the few messages users must see).  Async-signal-safe formatting subset:
 * %s %d %u %ld %lu %llu %x %lx %p %zu. */
NGR_API void ngr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the hooks library's side ------------------------------------------------------------- */

/* nogilrace-<tag>.so exports this; libnogilrace.so calls it once, on the main thread, holding the
 * GIL / attached to the interpreter, right before user code runs.  Returns 0 on success; on
 * failure the hooks library has undone what it did and the program runs untraced. */
typedef int (*ngr_hooks_init_fn)(void);
#define NGR_HOOKS_INIT_SYMBOL "ngr_hooks_init"

#endif
