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
 * A finding is one bug, a GROUP (issue #13): every site pair at which one kind of race was seen
 * on one variable name — the attribute or variable without a dict key, so a dict's keys and the
 * objects of one class that share a display name ("app.Stats().requests_served") fold into it;
 * a name known only by its type ("<dict>") also takes the racing code's file and function, as
 * unrelated anonymous containers must not fold (docs/report-analysis.md, "One finding per bug").
 * Its pairs[] list the site pairs; the finding's own variable, key, access[] and message are
 * copies of its representative pair, pairs[0] (observed first, then the most frequent).
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

/* One pair of code sites at which a group's race was seen (added for issue #13). */
struct ngr_site_pair {
    char id[20];         /* "NGR-" + 12 hex digits: hash of kind, variable name and the two sites'
                            file:line:function, sorted — what a finding's id was in JSON schema
                            versions 1 and 2, so `race:` rules naming one still match its pair */
    bool observed;       /* unordered by happens-before in this run (else potential) */
    uint64_t count;      /* times seen, on any of the group's variables and keys */
    char *variable;      /* display name of one variable it was seen on: "app.cache['user:1']" */
    char *key;           /* that variable's key repr, or NULL */
    struct ngr_access_info access[2]; /* as ngr_finding.access, for this pair's kept instance */
    char *message;       /* as ngr_finding.message, for this pair */
};

#define NGR_MAX_KEY_EXAMPLES 5

struct ngr_finding {
    char id[20];         /* "NGR-" + 12 hex digits: hash of the group key — kind, var_kind,
                            var_name (without the key) and, for a name in angle brackets
                            ("<dict>"), the file:function of the racing code — never of var ids,
                            stack ids, addresses, thread numbers or how many pairs or objects were
                            seen, so stable across runs of the same program */
    enum ngr_finding_kind kind;
    enum ngr_severity severity;
    bool observed;       /* true: unordered by happens-before in this run; false: potential */
    char *variable;      /* display name: "app.counter", "app.cache['user:1']", "app.METRICS.requests" */
    char *var_name;      /* the variable without the key: "app.cache" */
    char *key;           /* the key's repr ("'user:1'"), or NULL for the whole variable */
    char *var_kind;      /* "global", "class_attr", "container", "obj_attr" */
    uint64_t count;      /* how many times the race was seen: the sum over its pairs */
    /* access[0]: the first access of the pattern (the read that was checked, the iteration, the
     * earlier write); access[1]: the conflicting access by another thread. */
    struct ngr_access_info access[2];
    char *message;       /* one line: "lost update on app.counter: read and write in worker() ..." */
    char *hint;          /* one line: how to fix it, e.g. "hold one lock around the read and the write" */
    /* added for issue #13 (additive): the group.  A finding made by hand may leave npairs 0: it
     * is then its own single pair (id, observed, count, variable, access and message its own). */
    struct ngr_site_pair *pairs; /* every site pair, representative first (ngr_group_settle) */
    size_t npairs;
    uint64_t objects;    /* distinct variables (var ids) of this name it was seen on: the objects
                            of a class, the dicts stored under one name; counted in each process,
                            summed over processes */
    uint64_t keys;       /* distinct keys (items) it was seen on, counted in each process and
                            summed; 0 when only whole variables raced */
    char **key_examples; /* reprs of up to NGR_MAX_KEY_EXAMPLES of those keys, first seen first */
    size_t nkey_examples;
    /* added for issue #15 (additive): */
    char **tests;        /* the spans (test ids) during which any instance's accesses ran, sorted,
                            at most NGR_MAX_TESTS; NULL/0 when no access ran in a span */
    size_t ntests;
    uint64_t tests_more; /* distinct test ids beyond the NGR_MAX_TESTS listed (the first by name): exact in
                            one run; where runs that each had more are merged, an upper bound */
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
    /* added for issue #12 (additive): */
    bool untraced;       /* PROCESS flag NO_HOOKS: the CPython hooks were missing or failed, so
                            nothing Python did was traced */
    bool stopped_early;  /* header flag DISABLED: tracing stopped before the process ended */
    char *python;        /* this process's Python version string ("" when not recorded) */
    char *note;          /* its last warning NOTE (why it ran untraced or stopped), or NULL */
};

struct ngr_report {
    struct ngr_finding *findings;
    size_t nfindings;
    size_t suppressed;   /* findings removed by --suppressions (set by the report command) */
    size_t suppressed_pairs; /* added for issue #13: site pairs removed from findings that are
                                still reported (a finding whose pairs all went counts in
                                suppressed instead) */

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
    /* added for issue #12 (additive): what the report could not see */
    size_t untraced;          /* processes that ran untraced (procs[i].untraced) */
    size_t stopped_early;     /* processes whose tracing stopped early (procs[i].stopped_early) */
    size_t traces_no_header;  /* trace files with no header: processes that died at start */
    size_t traces_unreadable; /* trace files that could not be read, each named in warnings */
    /* added for issue #15 (additive): */
    unsigned runs;        /* runs merged into this report (runs.h): 1 for one run of traces */
    struct ngr_id_index *by_id; /* findings by id while they are merged (merge.c); NULL otherwise */
    const char *baseline; /* the --baseline file, or NULL */
    size_t known;         /* findings whose id is in the baseline (in_baseline) */
};

void ngr_report_free(struct ngr_report *r);

#endif
