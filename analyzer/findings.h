/* findings.h — THE CONTRACT between the analysis (analyzer-core: analysis*.c, report text output)
 * and the other outputs (analyzer-out: JSON, SARIF, suppressions).  Change it only additively and
 * say so in the commit message; both sides read it from the tree.
 *
 * The analysis fills one `struct ngr_report` for all the traces given (each trace = one process,
 * analysed separately, findings merged by id).  Everything in it is plain data owned by the
 * report: strings are NUL-terminated UTF-8 as recorded by the tracer (names come from Python, so
 * they may hold any character: escape them on output), arrays are (pointer, count) pairs, never
 * NULL when the count is non-zero.  ngr_report_free() releases it all.
 *
 * Findings are sorted: observed before potential, then by kind, then by variable name, then id, so
 * output is the same from run to run.
 */
#ifndef NGR_AN_FINDINGS_H
#define NGR_AN_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ngr_finding_kind {
    NGR_FK_LOST_UPDATE = 1,               /* "lost-update": read-modify-write, `n += 1` */
    NGR_FK_CHECK_THEN_ACT = 2,            /* "check-then-act": `if k not in d: d[k] = ...` */
    NGR_FK_ITERATION_DURING_MUTATION = 3, /* "iteration-during-mutation" */
    NGR_FK_UNPROTECTED_WRITE = 4,         /* "unprotected-write": writes from several threads, no lock */
};
/* "lost-update", "check-then-act", "iteration-during-mutation", "unprotected-write". */
const char *ngr_finding_kind_name(enum ngr_finding_kind kind);

enum ngr_severity {
    NGR_SEV_ERROR = 1,   /* observed: the two accesses were unordered in this very run */
    NGR_SEV_WARNING = 2, /* potential: ordered by chance in this run, but no common lock */
};

struct ngr_frame {
    char *file;          /* as recorded: absolute path, or "<frozen ...>" */
    unsigned line;       /* 0 when unknown */
    char *function;      /* qualified name, e.g. "Registry.get" */
};

struct ngr_access_info {
    char *op;            /* access kind as in `dump --json`: "read", "write", "delete", "clear",
                            "contains", "iter_begin", "iter_end" */
    bool atomic;         /* NGR_ACC_FLAG_ATOMIC: one atomic container operation */
    unsigned pid;        /* process the access was made in */
    unsigned thread;     /* thread number in that process (1 = the thread that started tracing) */
    char *thread_name;   /* last recorded name ("MainThread", "worker-1", ...) */
    char **locks;        /* names of the locks held at the access ("app.lock", "<lock created at app.py:12>") */
    size_t nlocks;
    struct ngr_frame *stack; /* Python stack, innermost first */
    size_t depth;
    char **native_stack; /* symbolised native frames, innermost first (NOGILRACE_NATIVE_STACKS=1) */
    size_t nnative;
    /* added for issue #15 (additive): the span the access ran in (NGR_OP_MARK: the pytest plugin
     * marks each test's phases), or NULL for both when none was active in its thread */
    char *test;          /* the span's label: a test id, "tests/test_cache.py::test_fill" */
    char *phase;         /* "setup", "call", "teardown", or NULL (a span that is not a test phase) */
};

struct ngr_finding {
    char id[20];         /* "NGR-" + 12 hex digits: hash of kind, variable name (var_name, without
                            the key) and the two sites' file:line:function (not of ids or
                            addresses), so stable across runs; findings on several keys of one
                            variable at the same sites are one finding (count summed, the key of
                            one instance shown) */
    enum ngr_finding_kind kind;
    enum ngr_severity severity;
    bool observed;       /* true: unordered by happens-before in this run; false: potential */
    char *variable;      /* display name: "app.counter", "app.cache['user:1']", "app.METRICS.requests" */
    char *var_name;      /* the variable without the key: "app.cache" */
    char *key;           /* the key's repr ("'user:1'"), or NULL for the whole variable */
    char *var_kind;      /* "global", "class_attr", "container", "obj_attr" */
    uint64_t count;      /* how many times this (kind, variable, pair of sites) was seen */
    /* access[0]: the first access of the pattern (the read that was checked, the iteration, the
     * earlier write); access[1]: the conflicting access by another thread. */
    struct ngr_access_info access[2];
    char *message;       /* one line: "lost update on app.counter: read and write in worker() ..." */
    char *hint;          /* one line: how to fix it, e.g. "hold one lock around the read and the write" */
    /* added for issue #15 (additive): */
    char **tests;        /* the spans (test ids) during which any instance's accesses ran, sorted,
                            at most NGR_MAX_TESTS; NULL/0 when no access ran in a span */
    size_t ntests;
    uint64_t tests_more; /* distinct test ids beyond the NGR_MAX_TESTS listed (at least this many) */
    unsigned runs;       /* in how many runs it appeared (report of several runs; 1 otherwise) */
    bool in_baseline;    /* its id is in the --baseline report: known, not a failure */
};
#define NGR_MAX_TESTS 32

struct ngr_gil_note {
    char *module;        /* the extension module whose import enabled the GIL */
    bool enabled;        /* true: the GIL was enabled by it */
    unsigned pid;
};

struct ngr_process_info {
    char *trace;         /* trace file path */
    unsigned pid, ppid;
    char *cmdline;
    bool finished;       /* the process ended cleanly (else the trace is incomplete) */
    uint64_t events;     /* access + sync + thread records read */
};

struct ngr_report {
    struct ngr_finding *findings;
    size_t nfindings;
    size_t suppressed;   /* findings removed by --suppressions (set by the report command) */

    /* run facts (from the first trace with a PROCESS record) */
    char *python_version; /* "3.13.5 experimental free-threading build ..." or NULL when unknown */
    bool gil_enabled;     /* the GIL was on at start, or was enabled later (see gil_notes) */
    bool free_threaded;   /* the interpreter was built with --disable-gil */
    size_t processes;     /* traces analysed */
    uint64_t events;      /* access + sync + thread records analysed, all traces */
    struct ngr_process_info *procs;
    struct ngr_gil_note *gil_notes;
    size_t ngil_notes;
    char **warnings;      /* reader warnings and notes, "FILE: what" (printed already on stderr) */
    size_t nwarnings;
    /* added for issue #15 (additive): */
    unsigned runs;        /* runs merged into this report (runs.h): 1 for one run of traces */
    struct ngr_id_index *by_id; /* findings by id while they are merged (merge.c); NULL otherwise */
    const char *baseline; /* the --baseline file, or NULL */
    size_t known;         /* findings whose id is in the baseline (in_baseline) */
};

void ngr_report_free(struct ngr_report *r);

#endif
