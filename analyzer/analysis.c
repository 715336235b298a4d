/* analysis.c — the driver (analysis.h has the algorithm): replays one trace at a time, keeps each
 * thread's current lockset, runs accesses through a prefetch pipeline into access.c and
 * sync/thread records into clocks.c, then turns candidates into findings (emit.c) and adds the
 * trace's facts to the report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis_int.h"
#include "escape.h"
#include "sigbus.h"
#include "spans.h"

static inline uint32_t cur_lset(struct an *a, uint32_t tix)
{
    struct athr *T = &a->th[tix];
    const struct ngr_thread *th = &a->r.threads[tix];
    if (!T->lset_valid || T->lver != th->lock_version) {
        if (!th->nheld) {
            T->lset = 0;
        } else if (th->nheld == 1) {
            uint64_t obj = th->held[0].obj;
            unsigned i = (unsigned)((obj * 0x9e3779b97f4a7c15ull) >> 56);
            if (a->single[i].obj != obj || !a->single[i].lset) {
                a->single[i].obj = obj;
                a->single[i].lset = lset_intern(&a->L, &obj, 1);
            }
            T->lset = a->single[i].lset;
        } else {
            T->lset = lset_of_held(&a->L, th->held, th->nheld, UINT64_MAX);
        }
        T->lver = th->lock_version;
        T->lset_valid = true;
    }
    return T->lset;
}

/* ---- facts ----------------------------------------------------------------------------------------- */

/* Every warning reaches the report (the JSON and SARIF documents carry them too) and, unless
 * quiet, stderr as it is found, whatever the output format; escaped there (escape.h), since it
 * names files and quotes notes from the trace. */
static void add_warning_to(struct ngr_report *rep, char *w, bool quiet)
{
    if (!quiet)
        ngr_text_line(stderr, "nogilrace: warning: ", w);
    rep->warnings = ngr_xrealloc(rep->warnings, (rep->nwarnings + 1) * sizeof *rep->warnings);
    rep->warnings[rep->nwarnings++] = w;
}

static void add_warning(struct ngr_report *rep, char *w)
{
    add_warning_to(rep, w, false);
}

static void facts(const struct ngr_trace *t, struct ngr_report *rep, uint64_t events)
{
    rep->procs = ngr_xrealloc(rep->procs, (rep->processes + 1) * sizeof *rep->procs);
    struct ngr_process_info *p = &rep->procs[rep->processes++];
    p->trace = ngr_xstrdup(t->path);
    p->pid = t->hdr.pid;
    p->ppid = t->hdr.ppid;
    p->cmdline = t->have_process ? ngr_trace_strdup(t, t->cmdline_str) : ngr_xstrdup("");
    p->finished = (t->hdr.flags & NGR_HDR_FINISHED) != 0;
    p->events = events;
    p->untraced = t->have_process && (t->process_flags & NGR_PROC_NO_HOOKS);
    p->stopped_early = (t->hdr.flags & NGR_HDR_DISABLED) != 0;
    p->python = t->have_process ? ngr_trace_strdup(t, t->version_str) : ngr_xstrdup("");
    p->note = NULL;
    rep->untraced += p->untraced;
    rep->stopped_early += p->stopped_early;
    rep->events += events;
    if (t->have_process) {
        if (!rep->python_version) {
            rep->python_version = ngr_trace_strdup(t, t->version_str);
            rep->free_threaded = (t->process_flags & NGR_PROC_FREE_THREADED) != 0;
        }
        if (t->process_flags & NGR_PROC_GIL_ENABLED)
            rep->gil_enabled = true;
    }
    if (!t->meta)
        return;
    for (size_t k = 0; k < t->meta->nchunks; k++) {
        const struct ngr_chunk_ref *ch = &t->meta->chunks[k];
        for (uint64_t off = ch->data; off < ch->data_end;) {
            uint64_t w0 = ngr_trace_word(t, off, 0);
            unsigned op = ngr_w0_op(w0), fl = ngr_w0_flags(w0);
            if (op == NGR_OP_GIL) {
                rep->gil_notes = ngr_xrealloc(rep->gil_notes, (rep->ngil_notes + 1) * sizeof *rep->gil_notes);
                rep->gil_notes[rep->ngil_notes++] =
                    (struct ngr_gil_note){ngr_trace_strdup(t, ngr_w0_arg(w0)), (fl & 1) != 0, t->hdr.pid};
                if (fl & 1)
                    rep->gil_enabled = true;
            } else if (op == NGR_OP_NOTE && fl == NGR_NOTE_WARNING) {
                char *m = ngr_trace_strdup(t, (uint32_t)ngr_trace_word(t, off, 1));
                add_warning(rep, ngr_xasprintf("%s: %s", t->path, m));
                /* the last says why: a NO_HOOKS process writes only that one, and the NOTE of
                 * tracing stopping early is the last thing its writer does */
                free(p->note);
                p->note = m;
            }
            off += 8ull * ngr_w0_words(w0);
        }
    }
}

/* ---- driver ---------------------------------------------------------------------------------------- */

/* Event chunks are read once: when a thread's cursor leaves one, its pages are handed back, so
 * the resident size stays with the analysis state instead of growing with the trace.  Only for
 * a file mapping (MAP_PRIVATE, read-only: the pages are reloaded from the file if ever touched
 * again); never for a caller's buffer. */
static void release_done_chunks(struct an *a, size_t *done)
{
    for (size_t i = 0; i < a->r.nthreads; i++) {
        const struct ngr_thread *th = &a->r.threads[i];
        for (; done[i] < th->chunk && done[i] < th->s->nchunks; done[i]++)
            ngr_trace_release_chunk(a->t, &th->s->chunks[done[i]]);
    }
}

/* The pipeline.  On a large trace nearly every access misses the cache twice (its slot in the
 * variable table, then its record), and that, not the algorithm, bounds the speed.  So an event
 * passes three stages, each a fixed distance behind the replay: read (its lock state copied, its
 * slot prefetched), LOOKUP_LAG events later looked up (its record and container facts
 * prefetched), RUN_LAG events later run, in replay order.  The distances let each miss finish
 * while other events are handled, without more misses in flight than the memory system keeps. */
#define RING 32          /* a power of two > RUN_LAG */
#define LOOKUP_LAG 6
#define RUN_LAG 14
#define PEND_HELD 6
struct pend {
    struct ngr_event ev;
    struct actx x;
    uint32_t vix, bix;
    uint64_t hash;         /* var_hash of the access */
    struct ngr_held held[PEND_HELD];
};

/* Lock records move no clock (analysis.h says why), except a hand-off: a threading.Lock released by
 * a thread that did not hold it, taken from the one that did, is a signal (acquire, wait on a
 * second acquire, another thread releases), and the next acquire of that lock happens after it. */
static inline bool lock_moves_clock(struct an *a, const struct ngr_event *ev)
{
    if (ev->kind == NGR_SYNC_RELEASE && ev->handoff) {
        ngr_map_put(&a->handoffs, ev->obj + 1, 1);
        return true;
    }
    return ev->kind == NGR_SYNC_ACQUIRE && a->handoffs.n && ngr_map_get_maybe(&a->handoffs, ev->obj + 1);
}

static void lookup(struct an *a, struct pend *p)
{
    if (p->ev.op != NGR_OP_ACCESS)
        return;
    p->vix = var_guess(a, p->ev.var_id, p->ev.key_id, p->hash);
    p->bix = base_index(a, p->ev.var_id);
    const char *v = (const char *)&a->vars[p->vix];
    __builtin_prefetch(v);
    __builtin_prefetch(v + 64);
    __builtin_prefetch(&a->bases[p->bix]);
}

static void run(struct an *a, struct pend *p)
{
    if (p->ev.op == NGR_OP_ACCESS) {
        const struct var *v = &a->vars[p->vix];
        if (v->var_id != p->ev.var_id || v->key != p->ev.key_id) { /* var_guess met another identity */
            p->vix = var_lookup(a, p->ev.var_id, p->ev.key_id, p->hash);
            /* and when this is the container's first identity, its facts are made only now */
            p->bix = base_index(a, p->ev.var_id);
        }
        on_access(a, &p->ev, p->vix, p->bix, &p->x);
    } else if (p->ev.op == NGR_OP_SYNC) {
        on_sync(a, &p->ev);
        spans_on_sync(a, &p->ev);
    } else if (p->ev.op == NGR_OP_THREAD) {
        on_thread(a, &p->ev);
        spans_on_thread(a, &p->ev);
    } else if (p->ev.op == NGR_OP_MARK) {
        spans_on_mark(a, &p->ev);
    }
}

int ngr_analyze_trace(const struct ngr_trace *t, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                      char *err, size_t errlen)
{
    struct an *a = ngr_xcalloc(1, sizeof *a);
    a->t = t;
    ngr_replay_init(&a->r, t);
    a->r.want_marks = true; /* spans.c: which test each access ran in */
    a->n = a->r.nthreads ? a->r.nthreads : 1;
    if (a->n >= MAX_THREADS) {
        add_warning(rep, ngr_xasprintf("%s: %zu threads, more than the analyzer handles (%u): not analysed",
                                       t->path, a->n, MAX_THREADS));
        ngr_replay_free(&a->r);
        free(a);
        facts(t, rep, 0);
        return 0;
    }
    clocks_init(a);
    build_top_cache(a);
    bool progress = o && o->progress && isatty(2);
    uint64_t next_report = 1u << 22;
    struct pend *ring = ngr_xcalloc(RING, sizeof *ring);
    uint64_t next_release = 1u << 16;
    size_t *done = t->mapped ? ngr_xcalloc(a->r.nthreads + 1, sizeof *done) : NULL;
    /* head: events read; looked: events looked up; ran: events run (ran <= looked <= head) */
    uint64_t head = 0, looked = 0, ran = 0;
    while (ngr_replay_next(&a->r, &ring[head % RING].ev)) {
        struct pend *p = &ring[head % RING];
        if (p->ev.op == NGR_OP_SYNC && p->ev.kind <= NGR_SYNC_ACQUIRE_ALL && !lock_moves_clock(a, &p->ev))
            continue; /* a lock operation: the replay has applied it to the lockset; no clock moves */
        if (p->ev.op == NGR_OP_ACCESS) {
            const struct ngr_thread *th = &a->r.threads[p->ev.tix];
            if (th->nheld > PEND_HELD) { /* many locks held: no copy; run everything queued, then it */
                for (; looked < head; looked++)
                    lookup(a, &ring[looked % RING]);
                for (; ran < head; ran++)
                    run(a, &ring[ran % RING]);
                p->x = (struct actx){cur_lset(a, p->ev.tix), a->r.serial, th->held, th->nheld};
                p->hash = var_hash(p->ev.var_id, p->ev.key_id);
                lookup(a, p);
                run(a, p);
                head++, looked++, ran++;
                continue;
            }
            p->x.lset = cur_lset(a, p->ev.tix);
            p->x.mark = a->r.serial;
            p->x.nheld = th->nheld;
            for (size_t i = 0; i < th->nheld; i++) /* usually 0 or 1: no memcpy call */
                p->held[i] = th->held[i];
            p->x.held = p->held;
            p->hash = var_hash(p->ev.var_id, p->ev.key_id);
            const void *slot = vslot_addr(a, p->hash);
            if (slot)
                __builtin_prefetch(slot);
        }
        head++;
        if (head - looked > LOOKUP_LAG)
            lookup(a, &ring[looked++ % RING]);
        if (head - ran > RUN_LAG)
            run(a, &ring[ran++ % RING]);
        if (a->r.events >= next_release) {
            next_release += 1u << 16;
            if (t->watched && ngr_sigbus_hit(t->base))
                break; /* the file shrank under us: what follows is filler (sigbus.h) */
            if (done)
                release_done_chunks(a, done);
        }
        if (progress && a->r.events >= next_report) {
            next_report += 1u << 22;
            fprintf(stderr, "\rnogilrace: %s: %" PRIu64 "M events analysed", t->path, a->r.events >> 20);
        }
    }
    for (; looked < head; looked++)
        lookup(a, &ring[looked % RING]);
    for (; ran < head; ran++)
        run(a, &ring[ran % RING]);
    free(ring);
    free(done);
    if (progress && a->r.events >= (1u << 22))
        fputs("\r\033[K", stderr);
    int rc = 0;
    if (ngr_trace_check_shrunk(t, err, errlen)) { /* before r.failed: the filler may have caused it */
        rc = -1;
    } else if (a->r.failed) {
        snprintf(err, errlen, "%s", a->r.err);
        rc = -1;
    } else {
        if (a->dropped_cands)
            add_warning(rep, ngr_xasprintf("%s: more than %d distinct race site pairs; %" PRIu64 " dropped",
                                           t->path, MAX_CANDIDATES, a->dropped_cands));
        facts(t, rep, a->r.events);
        emit_candidates(a, rep);
        /* names are read from the mapping until here: a truncation in this last moment */
        char why[512];
        if (ngr_trace_check_shrunk(t, why, sizeof why))
            add_warning(rep, ngr_xasprintf("%s (while its findings were written: their names may be damaged)", why));
    }
    clocks_free(a);
    spans_free(a);
    lsets_free(&a->L);
    vartab_free(a);
    ngr_map_free(&a->cand_map);
    free(a->cands);
    ngr_map_free(&a->site_map);
    ngr_map_free(&a->handoffs);
    free(a->sites);
    free(a->top_loc);
    free(a->top_line);
    ngr_replay_free(&a->r);
    free(a);
    return rc;
}

/* At most this many "no header" warnings on stderr (a program that forks workers and kills them
 * at once can leave hundreds); the rest are counted in one line, and all are in the report. */
#define NO_HEADER_SHOWN 5

int ngr_analyze_files(char *const *paths, size_t n, struct ngr_report *rep, const struct ngr_analysis_opts *o,
                      char *err, size_t errlen)
{
    size_t analysed = 0;
    char why[1024];
    for (size_t i = 0; i < n; i++) {
        struct ngr_trace t;
        int rc = ngr_trace_open_ex(&t, paths[i], NGR_TRACE_DEFER_CHECKS, why, sizeof why);
        if (rc == 0) {
            for (size_t w = 0; w < t.nwarnings; w++)
                add_warning(rep, ngr_xstrdup(t.warnings[w]));
            rc = ngr_analyze_trace(&t, rep, o, why, sizeof why);
        }
        bool no_header = t.no_header;
        ngr_trace_close(&t);
        if (rc == 0) {
            analysed++;
            continue;
        }
        if (n == 1) { /* the one file asked for: its problem is the error */
            snprintf(err, errlen, "%s", why);
            return -1;
        }
        /* One unreadable trace never hides the others: it is named, and the rest reported. */
        if (no_header)
            rep->traces_no_header++;
        else
            rep->traces_unreadable++;
        add_warning_to(rep, ngr_xstrdup(why), no_header && rep->traces_no_header > NO_HEADER_SHOWN);
    }
    if (rep->traces_no_header > NO_HEADER_SHOWN)
        fprintf(stderr, "nogilrace: warning: %zu more trace files without a header (processes that died at "
                        "start), not listed here\n", rep->traces_no_header - NO_HEADER_SHOWN);
    if (!analysed) {
        snprintf(err, errlen, "none of the %zu trace files could be read (each is named above)", n);
        return -1;
    }
    ngr_report_sort(rep);
    return 0;
}
