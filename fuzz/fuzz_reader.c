/* fuzz_reader.c — libFuzzer target: a trace file from untrusted bytes through the whole reader
 * (header, chunk index, CRC seals, record framing, metadata tables; once with every check at open
 * as dump does, once with the event chunks' checks deferred to the replay as report does), the
 * replay (merge by seq,
 * lockset replay), every name lookup, the race analysis, suppression rules, and the text (its
 * escaping of every recorded name), JSON and SARIF writers (into /dev/null).
 *
 * Each input is tried twice: as given, and with the CRC-32C of every sealed chunk recomputed.
 * Without the second pass almost every mutation inside a sealed chunk would stop at the CRC
 * check and the fuzzer would never reach the record decoder behind it.
 *
 * Built by scripts/fuzz with clang -fsanitize=fuzzer,address,undefined; not part of `make`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "crc32c.h"
#include "output.h"
#include "replay.h"
#include "suppress.h"
#include "trace.h"
#include "trace_format.h"

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Touches a string so that ASan sees every byte of it. */
static volatile unsigned sink;
static void touch(const char *s)
{
    if (s)
        for (; *s; s++)
            sink += (unsigned char)*s;
}
static void touch_free(char *s)
{
    touch(s);
    free(s);
}

static void touch_stack(const struct ngr_trace *t, const struct ngr_stack *st, bool native)
{
    if (!st)
        return;
    for (unsigned i = 0; i < st->depth; i++) {
        uint32_t id = ngr_stack_at(st, i);
        if (native) {
            touch_free(ngr_trace_strdup(t, id));
            continue;
        }
        const struct ngr_loc *l = ngr_trace_loc_maybe(t, id);
        if (l) {
            touch_free(ngr_trace_strdup(t, l->file));
            touch_free(ngr_trace_strdup(t, l->func));
        }
    }
}

static void replay_all(const struct ngr_trace *t)
{
    struct ngr_replay r;
    ngr_replay_init(&r, t);
    struct ngr_event ev;
    while (ngr_replay_next(&r, &ev)) {
        const struct ngr_thread *th = &r.threads[ev.tix];
        touch_free(ngr_trace_thread_name(t, th->num));
        for (size_t i = 0; i < th->nheld; i++)
            touch_free(ngr_trace_obj_name(t, th->held[i].obj));
        touch_stack(t, ngr_trace_stack_maybe(t, ev.stack_id), false);
        touch_stack(t, ngr_trace_nstack_maybe(t, ev.native_stack_id), true);
        switch (ev.op) {
        case NGR_OP_ACCESS:
            touch(ngr_access_kind_name(ev.kind));
            touch_free(ngr_trace_var_name(t, ev.var_id));
            touch_free(ngr_trace_key_repr(t, ev.key_id));
            break;
        case NGR_OP_SYNC:
            touch(ngr_sync_kind_name(ev.kind));
            touch_free(ngr_trace_obj_name(t, ev.obj));
            break;
        case NGR_OP_THREAD:
            touch(ngr_thread_kind_name(ev.kind));
            touch_free(ngr_trace_thread_name(t, ev.other));
            break;
        }
    }
    ngr_replay_free(&r);
    touch_free(ngr_trace_strdup(t, t->version_str));
    touch_free(ngr_trace_strdup(t, t->cmdline_str));
    for (size_t i = 0; i < t->nwarnings; i++)
        touch(t->warnings[i]);
}

static FILE *devnull;
static struct ngr_suppressions *rules;

/* The report path of `nogilrace report`: analysis, sort, suppressions (rules only: source files
 * named by a fuzzed trace are not read), text, JSON and SARIF. */
static void analyze(const struct ngr_trace *t)
{
    if (!devnull) {
        char err[256];
        static const char text[] = "race:NGR-0*\nvariable:*cache\\[*\nfile:*/nope/*\nfunction:Registry.*x\n";
        devnull = fopen("/dev/null", "w");
        rules = ngr_suppress_parse("fuzz.supp", text, sizeof text - 1, err, sizeof err);
        if (!devnull || !rules)
            abort();
        ngr_suppress_set_inline(rules, false);
    }
    struct ngr_report rep;
    memset(&rep, 0, sizeof rep);
    struct ngr_analysis_opts ao = {.progress = false};
    char err[512];
    if (ngr_analyze_trace(t, &rep, &ao, err, sizeof err) != 0)
        touch(err);
    ngr_report_sort(&rep);
    ngr_suppress_apply(rules, &rep);
    struct ngr_output_opts oo = {.tool_version = "fuzz", .base_dir = "/src"};
    ngr_output_text(devnull, &rep);
    ngr_output_json(devnull, &rep, &oo);
    ngr_output_sarif(devnull, &rep, &oo);
    ngr_report_free(&rep);
}

static void run_one(const uint8_t *data, size_t size)
{
    struct ngr_trace t;
    char err[512];
    /* dump's way: every check at open */
    if (ngr_trace_open_mem(&t, "fuzz.ngrtrace", data, size, err, sizeof err) == 0) {
        replay_all(&t);
        analyze(&t);
    } else {
        touch(err);
    }
    /* Also after a failed open: the reader keeps what it allocated until close (the path, and
     * tables built before the error), and close is safe on any state open left. */
    ngr_trace_close(&t);
    /* report's way: sealed event chunks are checked when the analysis first reaches them */
    if (ngr_trace_open_mem_ex(&t, "fuzz.ngrtrace", data, size, NGR_TRACE_DEFER_CHECKS, err, sizeof err) == 0)
        analyze(&t);
    else
        touch(err);
    ngr_trace_close(&t);
}

/* Recomputes the seal CRC of every sealed chunk whose length fits; returns false when nothing
 * changed (then the second pass would repeat the first). */
static bool reseal(uint8_t *b, size_t size)
{
    if (size < sizeof(struct ngr_file_header))
        return false;
    uint32_t header_size = rd32(b + 12), chunk_size = rd32(b + 16);
    if (chunk_size < NGR_CHUNK_HEADER_SIZE || header_size > size)
        return false;
    bool changed = false;
    for (size_t off = header_size; size - off >= NGR_CHUNK_HEADER_SIZE; off += chunk_size) {
        uint32_t slen = rd32(b + off + 12);
        if (slen && slen <= chunk_size - NGR_CHUNK_HEADER_SIZE && slen <= size - off - NGR_CHUNK_HEADER_SIZE) {
            uint32_t crc = ngr_crc32c(0, b + off + NGR_CHUNK_HEADER_SIZE, slen);
            if (crc != rd32(b + off + 16)) {
                memcpy(b + off + 16, &crc, 4);
                changed = true;
            }
        }
        if (size - off <= chunk_size)
            break;
    }
    return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_one(data, size);
    /* Exact-size copy, so ASan catches a read one past the end. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (reseal(copy, size))
        run_one(copy, size);
    free(copy);
    return 0;
}
