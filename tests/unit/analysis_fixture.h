/* analysis_fixture.h — helpers shared by the analysis unit tests (test_lockset.c, test_hb.c,
 * test_atomicity.c, test_report.c): build a trace in memory with tracegen, analyse it, look a
 * finding up.  Not a test itself (the Makefile builds tests/unit/test_*.c only). */
#ifndef NGR_TEST_ANALYSIS_FIXTURE_H
#define NGR_TEST_ANALYSIS_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "analysis.h"
#include "findings.h"
#include "trace.h"
#include "tracegen.h"

/* variables and objects every scenario can use */
enum { X = 1, Y = 2, D = 3, L1 = 0x100, L2 = 0x200, Q = 0x300, EV = 0x400 };

/* A trace of chunk_size-byte chunks with the scenario's metadata. */
static inline struct ngr_tg *fx_new_chunks(uint32_t chunk_size)
{
    struct ngr_tg *g = ngr_tg_new(chunk_size);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED, "3.13.5", "python app.py");
    ngr_tg_var(g, X, NGR_VAR_GLOBAL, "app.x");
    ngr_tg_var(g, Y, NGR_VAR_GLOBAL, "app.y");
    ngr_tg_var(g, D, NGR_VAR_CONTAINER, "app.cache");
    ngr_tg_key(g, 7, NGR_KEY_STR, "'user:1'");
    ngr_tg_sobj(g, L1, NGR_SOBJ_LOCK, "app.lock");
    ngr_tg_sobj(g, L2, NGR_SOBJ_LOCK, "app.other_lock");
    ngr_tg_sobj(g, Q, NGR_SOBJ_QUEUE, "app.q");
    ngr_tg_sobj(g, EV, NGR_SOBJ_EVENT, "app.ready");
    ngr_tg_thread_name(g, 1, "MainThread");
    ngr_tg_thread_name(g, 2, "worker-0");
    ngr_tg_thread_name(g, 3, "worker-1");
    return g;
}

static inline struct ngr_tg *fx_new(void)
{
    return fx_new_chunks(4096);
}

/* main (1) begins and starts threads 2 and 3 (each begins right after its spawn) */
static inline void fx_start2(struct ngr_tg *g)
{
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 0);
}

/* threads 2 and 3 end, main joins them and ends; the END record */
static inline void fx_finish2(struct ngr_tg *g)
{
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 3, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 3, 0);
    ngr_tg_thread(g, 1, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
}

/* a stack of one frame app.py:line in fn */
static inline uint32_t fx_at(struct ngr_tg *g, const char *fn, uint32_t line)
{
    return ngr_tg_stack1(g, "app.py", fn, line);
}

/* Analyses the trace g describes (and frees g).  With grew_kb, also says by how much the analysis
 * (not the building of the trace) raised the peak resident memory, in KiB. */
static inline struct ngr_report fx_analyse_measured(struct ngr_tg *g, long *grew_kb)
{
    unsigned char *buf;
    size_t len;
    ngr_tg_build(g, NULL, &buf, &len);
    ngr_tg_free(g);
    struct ngr_trace t;
    char err[512];
    cr_assert_eq(ngr_trace_open_mem(&t, "t.ngrtrace", buf, len, err, sizeof err), 0, "%s", err);
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    cr_assert_eq(ngr_analyze_trace(&t, &rep, NULL, err, sizeof err), 0, "%s", err);
    getrusage(RUSAGE_SELF, &ru1);
    if (grew_kb)
        *grew_kb = ru1.ru_maxrss - ru0.ru_maxrss;
    ngr_report_sort(&rep);
    ngr_trace_close(&t);
    free(buf);
    return rep;
}

static inline struct ngr_report fx_analyse(struct ngr_tg *g)
{
    return fx_analyse_measured(g, NULL);
}

static inline const struct ngr_finding *fx_find(const struct ngr_report *r, enum ngr_finding_kind kind, const char *var)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].kind == kind && strcmp(r->findings[i].variable, var) == 0)
            return &r->findings[i];
    return NULL;
}

/* "kind var, kind var, ..." for failure messages */
static inline const char *fx_list(const struct ngr_report *r)
{
    static char buf[2048];
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < r->nfindings && n < sizeof buf - 200; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s %s", i ? ", " : "",
                              ngr_finding_kind_name(r->findings[i].kind), r->findings[i].variable);
    return r->nfindings ? buf : "(none)";
}

/* One read-modify-write of var (`x += 1` at line) in its own frame, optionally under lock. */
static inline void fx_rmw(struct ngr_tg *g, uint32_t thread, uint32_t var, uint64_t key, uint64_t frame, uint32_t stack,
                   uint64_t lock)
{
    if (lock)
        ngr_tg_sync(g, thread, NGR_SYNC_ACQUIRE, lock, 0, 0);
    ngr_tg_access(g, thread, NGR_ACC_READ, var, key, frame, stack);
    ngr_tg_access(g, thread, NGR_ACC_WRITE, var, key, frame, stack);
    if (lock)
        ngr_tg_sync(g, thread, NGR_SYNC_RELEASE, lock, 0, 0);
}

#endif
