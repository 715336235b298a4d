/* gen_seeds.c — writes the fuzz seed corpus into a directory: small valid traces (analyzer
 * tracegen) covering every record type, plus truncated and corrupted variants of them.
 *
 *   gen_seeds DIR      → DIR/seed-*.ngrtrace; prints how many it wrote
 *
 * Generated at run time by scripts/fuzz so the corpus always matches the current format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_format.h"
#include "tracegen.h"

static const char *dir;
static unsigned written;

static void save(const char *name, const unsigned char *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%s.ngrtrace", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    written++;
}

/* The trace, then variants: cut at several points, and a few bytes flipped. */
static void save_with_variants(const char *name, struct ngr_tg *g, const struct ngr_tg_opts *o)
{
    unsigned char *buf;
    size_t len;
    ngr_tg_build(g, o, &buf, &len);
    save(name, buf, len);
    char vname[256];
    const size_t cuts[] = {0, 7, 72, 4096, 4096 + 31, 4096 + 40, len / 2, len - 9, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        if (cuts[i] >= len)
            continue;
        snprintf(vname, sizeof vname, "%s-cut%zu", name, cuts[i]);
        save(vname, buf, cuts[i]);
    }
    unsigned char *c = malloc(len);
    const size_t flips[] = {8, 12, 16, 4096, 4096 + 4, 4096 + 12, 4096 + 32, 4096 + 33, 4096 + 36, 4096 + 64};
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        if (flips[i] >= len)
            continue;
        memcpy(c, buf, len);
        c[flips[i]] ^= 0x41;
        snprintf(vname, sizeof vname, "%s-flip%zu", name, flips[i]);
        save(vname, c, len);
    }
    free(c);
    free(buf);
}

static void meta_common(struct ngr_tg *g, unsigned procflags)
{
    ngr_tg_process(g, procflags, "3.13.5 experimental free-threading build", "python app.py");
    ngr_tg_thread_name(g, 1, "MainThread");
    ngr_tg_thread_name(g, 2, "worker-1");
    ngr_tg_thread_name(g, 3, "worker-2");
}

/* Two workers doing `counter += 1`, one under a lock: the guide's lost update. */
static void counter(void)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    meta_common(g, NGR_PROC_FREE_THREADED);
    ngr_tg_var(g, 1, NGR_VAR_GLOBAL, "app.counter");
    ngr_tg_sobj(g, 0x1000, NGR_SOBJ_LOCK, "app.lock");
    uint32_t s_inc = ngr_tg_stack1(g, "/src/app.py", "worker", 7);
    uint32_t s_lock = ngr_tg_stack1(g, "/src/app.py", "worker", 6);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 100);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 3, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 101);
    ngr_tg_thread(g, 3, NGR_THR_BEGIN, 1, 102);
    for (int i = 0; i < 20; i++) {
        ngr_tg_access(g, 2, NGR_ACC_READ, 1, 0, 50 + i, s_inc);
        ngr_tg_access(g, 2, NGR_ACC_WRITE, 1, 0, 50 + i, s_inc);
        ngr_tg_sync(g, 3, NGR_SYNC_ACQUIRE, 0x1000, 0, s_lock);
        ngr_tg_access(g, 3, NGR_ACC_READ, 1, 0, 90 + i, s_inc);
        ngr_tg_access(g, 3, NGR_ACC_WRITE, 1, 0, 90 + i, s_inc);
        ngr_tg_sync(g, 3, NGR_SYNC_RELEASE, 0x1000, 0, s_lock);
    }
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 3, NGR_THR_END, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 2, 0);
    ngr_tg_thread(g, 1, NGR_THR_JOIN, 3, 0);
    ngr_tg_access(g, 1, NGR_ACC_READ, 1, 0, 1, s_inc);
    ngr_tg_end(g);
    save_with_variants("counter", g, NULL);
    struct ngr_tg_opts o = {.unsealed = true};
    save_with_variants("counter-unsealed", g, &o);
    ngr_tg_free(g);
}

/* Dict cache with keys, iteration during mutation, an RLock and a Condition (RELEASE_ALL /
 * ACQUIRE_ALL, SEND/RECV), a queue hand-off, native stacks, a GIL note, a fork and notes;
 * spread over several small chunks per stream. */
static void cache(void)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    meta_common(g, NGR_PROC_FREE_THREADED | NGR_PROC_GIL_ENABLED);
    ngr_tg_gil(g, true, "legacy_ext");
    ngr_tg_note(g, NGR_NOTE_WARNING, "tracing stopped: \xff bad utf-8 \"quoted\"\n");
    ngr_tg_note(g, NGR_NOTE_INFO, "info note");
    ngr_tg_var(g, 1, NGR_VAR_CONTAINER, "app.cache");
    ngr_tg_var(g, 2, NGR_VAR_CLASS_ATTR, "app.Registry.created");
    ngr_tg_var(g, 3, NGR_VAR_OBJ_ATTR, "app.METRICS.requests");
    ngr_tg_key(g, 11, NGR_KEY_STR, "'user:1'");
    ngr_tg_key(g, 12, NGR_KEY_INT, "42");
    ngr_tg_key(g, 13, NGR_KEY_TUPLE, "(1, 'a')");
    ngr_tg_sobj(g, 0x2000, NGR_SOBJ_RLOCK, "app.rlock");
    ngr_tg_sobj(g, 0x3000, NGR_SOBJ_CONDITION, "<lock created at app.py:12>");
    ngr_tg_sobj(g, 0x4000, NGR_SOBJ_QUEUE, "app.q");
    uint32_t l1 = ngr_tg_loc(g, "/src/app.py", "Registry.get", 20);
    uint32_t l2 = ngr_tg_loc(g, "/src/app.py", "main", 40);
    uint32_t l3 = ngr_tg_loc(g, "<frozen importlib._bootstrap>", "_call_with_frames_removed", 0);
    uint32_t locs[] = {l1, l2, l3};
    uint32_t st = ngr_tg_stack(g, locs, 3);
    uint32_t st2 = ngr_tg_stack1(g, "/src/app.py", "dump_all", 30);
    ngr_tg_thread(g, 1, NGR_THR_BEGIN, 0, 200);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 201);
    for (int i = 0; i < 60; i++) {
        ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE, 0x2000, 0, st);
        ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE, 0x2000, 0, st);
        ngr_tg_access(g, 2, NGR_ACC_CONTAINS | NGR_ACC_FLAG_ATOMIC, 1, 11, 300 + i, st);
        ngr_tg_access(g, 2, NGR_ACC_WRITE | NGR_ACC_FLAG_ATOMIC, 1, 11, 300 + i, st);
        ngr_tg_sync(g, 2, NGR_SYNC_RELEASE_ALL, 0x2000, 2, st);
        ngr_tg_sync(g, 2, NGR_SYNC_ACQUIRE_ALL, 0x2000, 2, st);
        ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, 0x2000, 0, st);
        ngr_tg_sync(g, 2, NGR_SYNC_RELEASE, 0x2000, 0, st);
        ngr_tg_access(g, 1, NGR_ACC_ITER_BEGIN, 1, 0, 500 + i, st2);
        ngr_tg_access(g, 2, NGR_ACC_DELETE, 1, 12, 300 + i, st);
        ngr_tg_access(g, 1, NGR_ACC_ITER_END, 1, 0, 500 + i, st2);
        ngr_tg_access(g, 2, NGR_ACC_CLEAR, 1, 13, 300 + i, st);
        ngr_tg_access(g, 1, NGR_ACC_READ, 2, 0, 500 + i, st);
        ngr_tg_access(g, 2, NGR_ACC_WRITE, 3, 0, 300 + i, st);
        ngr_tg_sync(g, 2, NGR_SYNC_SEND, 0x4000, 0, st);
        ngr_tg_sync(g, 1, NGR_SYNC_RECV, 0x4000, 0, st2);
        ngr_tg_sync(g, 1, NGR_SYNC_RD_ACQUIRE, 0x3000, 0, st2);
        ngr_tg_sync(g, 1, NGR_SYNC_RD_RELEASE, 0x3000, 0, st2);
        ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, 0x3000, 0, st2); /* released without holding it */
    }
    ngr_tg_sync(g, 2, NGR_SYNC_FREE, 0x4000, 0, 0);
    ngr_tg_thread(g, 1, NGR_THR_FORK, 0, 0xabcdef);
    ngr_tg_thread(g, 2, NGR_THR_DETACH, 0, 0);
    ngr_tg_thread(g, 2, NGR_THR_END, 0, 0);
    ngr_tg_end(g);
    save_with_variants("cache", g, NULL);
    struct ngr_tg_opts o = {.not_finished = true, .header_flags = NGR_HDR_FORKED, .pid = 4242};
    save_with_variants("cache-forked", g, &o);
    ngr_tg_free(g);
}

/* Odd but legal content: unknown opcodes (skipped by size), an empty string, ids that point
 * nowhere, a thread stream without BEGIN. */
static void odd(void)
{
    struct ngr_tg *g = ngr_tg_new(8192);
    ngr_tg_process(g, 0, "", "");
    ngr_tg_var(g, 7, NGR_VAR_GLOBAL, "");
    uint64_t unknown[3] = {ngr_word0(0x7e, 3, 0, 5), 1, 2};
    ngr_tg_raw(g, 0, unknown, 3);
    ngr_tg_raw(g, 4, unknown, 3);
    ngr_tg_access(g, 4, NGR_ACC_WRITE, 99, 77, 1, 12345);
    ngr_tg_sync(g, 4, NGR_SYNC_ACQUIRE, 0x9999, 0, 555);
    ngr_tg_access(g, 5, NGR_ACC_READ, 7, 0, 2, 0);
    ngr_tg_thread(g, 5, NGR_THR_JOIN, 4, 0);
    save_with_variants("odd", g, NULL);
    ngr_tg_free(g);
}

/* Issue #12's input: names made to forge report lines or drive a terminal (control characters,
 * C1 controls, a bidi override, bytes that are not UTF-8), a process that ran untraced and one
 * whose tracing stopped early, and the header a process killed at start leaves (zeros). */
static void hostile(void)
{
    struct ngr_tg *g = ngr_tg_new(4096);
    ngr_tg_process(g, NGR_PROC_FREE_THREADED | NGR_PROC_NO_HOOKS, "3.14.0\x1b[2J", "python\napp.py");
    ngr_tg_note(g, NGR_NOTE_WARNING, "no hooks\n==================\nWARNING: nogilrace: forged");
    ngr_tg_var(g, 1, NGR_VAR_GLOBAL, "app.x\n==================\nWARNING: nogilrace: lost-update on y");
    ngr_tg_sobj(g, 0x10, NGR_SOBJ_LOCK, "lock\x1b]0;t\x07\xc2\x9b\xe2\x80\xae\xff\xfe");
    ngr_tg_thread_name(g, 2, "w\r\x1b[31m\xc0\x80");
    uint32_t st = ngr_tg_stack1(g, "app\x7f.py", "f\xe2\x80\xa8", 3);
    ngr_tg_thread(g, 1, NGR_THR_SPAWN, 2, 0);
    ngr_tg_thread(g, 2, NGR_THR_BEGIN, 1, 0);
    ngr_tg_access(g, 2, NGR_ACC_READ, 1, 0, 1, st);
    ngr_tg_access(g, 2, NGR_ACC_WRITE, 1, 0, 1, st);
    ngr_tg_sync(g, 1, NGR_SYNC_ACQUIRE, 0x10, 0, st);
    ngr_tg_access(g, 1, NGR_ACC_WRITE, 1, 0, 2, st);
    ngr_tg_sync(g, 1, NGR_SYNC_RELEASE, 0x10, 0, st);
    struct ngr_tg_opts o = {.header_flags = NGR_HDR_DISABLED};
    save_with_variants("hostile", g, &o);
    ngr_tg_free(g);
    static const unsigned char zeros[4096];
    save("zeros", zeros, sizeof zeros);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    counter();
    cache();
    odd();
    hostile();
    printf("%u seeds\n", written);
    return 0;
}
