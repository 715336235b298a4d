/* record.c — what an access becomes in the trace: the per-thread read filter, then one record.
 *
 * Every hook that sees an access ends here (ngr_acc_emit): it gets its function-activation id
 * and interned stack (stacks.c) and goes to the preload's writer (ngr_emit_access), unless the
 * read filter finds it adds nothing to the analysis (below).
 */
#include "acc.h"

#include <sys/mman.h>

/* ---- repeated reads ------------------------------------------------------------------------
 *
 * A read adds nothing to the analysis when the same thread already recorded a read of the same
 * variable (and key) at the same instruction and nobody wrote the variable since: the lockset and
 * happens-before position of the recorded one stand for it (the rule documented in
 * docs: "first read per thread, site and write epoch").  Each variable has a write epoch, bumped
 * by every write, delete or clear recorded for it.  A read skipped this way is remembered (one per
 * variable hash slot); if the same function activation then writes the variable, the read is
 * recorded just before the write, so read-then-write pairs (check-then-act, lost updates) are never
 * lost to the filter.  NOGILRACE_EVERY_EVENT=1 turns the filter off. */

#define MAX_EPOCH_VARS (1u << 22)
static _Atomic uint32_t *var_epoch;        /* by var_id, in an anonymous mapping */
/* per var_id: VF_DISABLED = some read instruction was disabled after recording it;
 * VF_VOLATILE = written after that, never disabled again */
static _Atomic uint8_t *var_flags;
#define VF_DISABLED 1u
#define VF_VOLATILE 2u
static int all_reads = -1;

/* 1024 read-filter slots per thread (32 KiB): 2048 cost 16-thread programs about 0.6 MiB more of
 * resident memory (slots are touched at random) and filtered no more reads on the bench workloads */
#define RD_SLOTS 1024
#define PEND_SLOTS 64
#define DUP_SLOTS 512
struct rd_ent { const void *code; uint64_t key; uint32_t var, unit, epoch; };
struct pend_ent { uint64_t fid, key; uint32_t var, kind; int offset; const void *frame; };
struct dup_ent { const void *code; uint64_t key; uint32_t var, unit, kind, serial, count; };
struct acc_tls {
    struct rd_ent rd[RD_SLOTS];
    struct pend_ent pend[PEND_SLOTS];
    struct dup_ent dup[DUP_SLOTS];
};
static __thread struct acc_tls *acc_tls;

static struct acc_tls *tls_get(void)
{
    struct acc_tls *t = acc_tls;
    if (__builtin_expect(t != NULL, 1))
        return t;
    /* once per thread; never freed (threads are few and the struct is ~35 KiB of which only
     * touched pages count) */
    t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return NULL;
    acc_tls = t;
    return t;
}

static uint32_t epoch_of(uint32_t var)
{
    return var < MAX_EPOCH_VARS && var_epoch ? atomic_load_explicit(&var_epoch[var], memory_order_relaxed) : 0;
}

static bool filter_on(void)
{
    if (__builtin_expect(all_reads < 0, 0)) {
        if (!var_epoch) {
            void *p = mmap(NULL, MAX_EPOCH_VARS * sizeof *var_epoch, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p != MAP_FAILED) {
                _Atomic uint32_t *expected = NULL;
                if (!atomic_compare_exchange_strong((_Atomic(_Atomic uint32_t *) *)&var_epoch,
                                                    &expected, (_Atomic uint32_t *)p))
                    munmap(p, MAX_EPOCH_VARS * sizeof *var_epoch);
            }
        }
        if (!var_flags) {
            void *p = mmap(NULL, MAX_EPOCH_VARS, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p != MAP_FAILED) {
                _Atomic uint8_t *expected = NULL;
                if (!atomic_compare_exchange_strong((_Atomic(_Atomic uint8_t *) *)&var_flags,
                                                    &expected, (_Atomic uint8_t *)p))
                    munmap(p, MAX_EPOCH_VARS);
            }
        }
        all_reads = ngr_options()->every_event || !var_epoch || !var_flags;
    }
    return !all_reads;
}

bool ngr_acc_may_disable(uint32_t var)
{
    if (!filter_on() || var >= MAX_EPOCH_VARS)
        return false;
    if (atomic_load(&var_epoch[var]) > 1 || (atomic_load(&var_flags[var]) & VF_VOLATILE))
        return false;
    atomic_fetch_or(&var_flags[var], VF_DISABLED);
    /* Sequentially consistent: a concurrent write either sees VF_DISABLED (and restarts the
     * events) or has already bumped the epoch, which this recheck sees. */
    if (atomic_load(&var_epoch[var]) > 1) {
        atomic_fetch_or(&var_flags[var], VF_VOLATILE);
        return false;
    }
    return !(atomic_load(&var_flags[var]) & VF_VOLATILE);
}

/* ---- repeated accesses -----------------------------------------------------------------------
 *
 * An access that repeats, in the same thread, one already recorded — same variable and key, same
 * kind, same instruction — with no synchronisation or thread event of that thread written in
 * between (ngr_thread_sync_serial unchanged: the same locks held, the same happens-before
 * position) tells the analysis nothing new: every pair of accesses it could form with another
 * thread's, the recorded one forms too, with the same sites, kinds and locks.  It is dropped at
 * the source: a hot loop `with lock: n += 1`, whose release and re-acquire the shim elides
 * (events.c), or an unlocked `counter += 1` loop, writes its first round and then a sample: the
 * 1st, 2nd, 4th ... 1024th repeat and every 1024th after, so that later rounds, which other
 * threads may run into, are still seen ("observed" needs an access unordered with the other
 * thread's; counts in the report count recorded accesses).  A dropped read is remembered as the
 * read filter's are, so that a write of the same activation that is recorded still gets it before
 * itself.  NOGILRACE_EVERY_EVENT=1 turns this off too. */
static bool sampled(uint32_t count)
{
    return count <= 1024 ? (count & (count - 1)) == 0 : (count & 1023) == 0;
}

/* True when this access repeats one recorded since the thread's last synchronisation, and is not
 * one of the sample: drop it. */
static bool repeat(struct acc_tls *t, const void *co, int offset, unsigned kind, uint32_t var_id,
                   uint64_t key_id)
{
    uint32_t serial = ngr_thread_sync_serial();
    uintptr_t h = (uintptr_t)co ^ (uintptr_t)offset * 0x9e3779b1u ^ var_id * 0x85ebca6bu ^
                  (uintptr_t)(key_id * 0xc2b2ae3d27d4eb4full) ^ kind * 0x27d4eb2fu;
    struct dup_ent *e = &t->dup[(h ^ h >> 17) & (DUP_SLOTS - 1)];
    if (e->code == co && e->unit == (uint32_t)offset && e->var == var_id && e->key == key_id &&
        e->kind == kind && e->serial == serial)
        return !sampled(++e->count);
    *e = (struct dup_ent){co, key_id, var_id, (uint32_t)offset, kind, serial, 1};
    return false;
}

void ngr_acc_emit(ngr_vframe *f, int offset, unsigned kind, uint32_t var_id, uint64_t key_id)
{
    if (!f || !var_id)
        return;
    PyCodeObject *co = ngr_v_frame_code(f);
    if (offset < 0)
        offset = ngr_v_frame_offset(f);
    uint64_t fid = ngr_frame_id(f, co, offset);
    unsigned base = kind & NGR_ACC_KIND_MASK;
    struct acc_tls *t = filter_on() ? tls_get() : NULL;
    if (t) {
        if (base == NGR_ACC_READ || base == NGR_ACC_CONTAINS) {
            uint32_t ep = epoch_of(var_id);
            uintptr_t h = (uintptr_t)co ^ (uintptr_t)offset * 0x9e3779b1u ^ var_id * 0x85ebca6bu ^
                          (uintptr_t)(key_id * 0xc2b2ae3d27d4eb4full);
            struct rd_ent *e = &t->rd[(h ^ h >> 13) & (RD_SLOTS - 1)];
            if ((e->code == co && e->unit == (uint32_t)offset && e->var == var_id &&
                 e->key == key_id && e->epoch == ep) || repeat(t, co, offset, kind, var_id, key_id)) {
                struct pend_ent *p = &t->pend[var_id & (PEND_SLOTS - 1)];
                /* A membership test of the same item pending in this activation stays: it is what
                 * makes the write after it a check-then-act (`if k in d: x = d[k] ... d[k] = v`);
                 * the read that follows it adds nothing the analysis uses. */
                if (!(p->var == var_id && p->fid == fid && p->frame == f && p->key == key_id &&
                      (p->kind & NGR_ACC_KIND_MASK) == NGR_ACC_CONTAINS))
                    *p = (struct pend_ent){fid, key_id, var_id, kind, offset, f};
                return;
            }
            *e = (struct rd_ent){co, key_id, var_id, (uint32_t)offset, ep};
        } else if (base == NGR_ACC_WRITE || base == NGR_ACC_DELETE || base == NGR_ACC_CLEAR) {
            if (var_id < MAX_EPOCH_VARS) {
                atomic_fetch_add(&var_epoch[var_id], 1);
                /* reads of it were switched off as a constant's: switch them back on, for good */
                if (atomic_load(&var_flags[var_id]) & VF_DISABLED) {
                    uint8_t old = atomic_exchange(&var_flags[var_id], VF_VOLATILE);
                    if (old & VF_DISABLED)
                        ngr_monitor_restart();
                }
            }
            if (repeat(t, co, offset, kind, var_id, key_id))
                return;
            /* a skipped read of this variable by this very activation comes first */
            struct pend_ent *p = &t->pend[var_id & (PEND_SLOTS - 1)];
            if (p->var == var_id && p->fid == fid && p->frame == f &&
                (p->key == key_id || base == NGR_ACC_CLEAR || key_id == 0)) {
                ngr_emit_access(p->kind, var_id, p->key, fid, ngr_stack_here(f, p->offset));
                p->var = 0;
            }
        }
    }
    ngr_emit_access(kind, var_id, key_id, fid, ngr_stack_here(f, offset));
}

void ngr_acc_emit_rmw(ngr_vframe *f, int offset, uint32_t var_id, uint64_t key_id)
{
    if (!f || !var_id)
        return;
    PyCodeObject *co = ngr_v_frame_code(f);
    if (offset < 0)
        offset = ngr_v_frame_offset(f);
    uint64_t fid = ngr_frame_id(f, co, offset);
    uint32_t st = ngr_stack_here(f, offset);
    if (filter_on() && var_id < MAX_EPOCH_VARS)
        atomic_fetch_add(&var_epoch[var_id], 1); /* a write: reads recorded before are stale */
    ngr_emit_access(NGR_ACC_READ, var_id, key_id, fid, st);
    ngr_emit_access(NGR_ACC_WRITE, var_id, key_id, fid, st);
}
