/* stacks.c — Python stacks as interned ids, and function-activation identities.
 *
 * Stacks: walk up to NOGILRACE_STACK_DEPTH frames, map each (code, instruction) to a location id
 * (cached per instruction in codeinfo), hash the sequence and look it up in a lock-free
 * open-addressing table; only a stack never seen before takes the spinlock and is defined in the
 * trace.  The table lives in an anonymous mapping: untouched pages cost no memory.  A new stack
 * whose probe window is full goes to a bigger spill table, mapped only then; one that finds no
 * room there either is recorded as no stack (one warning note).
 *
 * frame_id: the analyzer pairs a read and a later write made by one function call.  Frame memory
 * is reused by the next call at the same depth, so the address alone would pair accesses of two
 * calls.  Per thread we remember, for recently seen frames, the code object, the caller frame and
 * its call instruction, and the offset of the last access; an access at an offset not after that
 * one, or under another caller or call instruction, starts a new activation id.  That also splits
 * loop iterations, which is what pairing wants (`counter += 1` in a loop pairs within one
 * iteration).  A forgotten frame just starts a new id: a missed pairing.  What is left: two
 * consecutive calls from the same call instruction of the same caller, the second one's first
 * access lying after the first one's last (different branches taken), share an id.
 */
#include "acc.h"
#include "pystack.h"

#include <string.h>
#include <sys/mman.h>

#define MAX_DEPTH 64
#define STACK_SLOTS (1u << 15)
/* A test suite (pytest, `python -m test`) reaches more than the primary holds: tens of thousands
 * of distinct stacks.  The spill table is mapped the first time a stack finds its primary probe
 * window full, so a program that never fills the primary touches no more pages than before (a
 * bigger single table would spread the first few thousand stacks over a page each).  Once used,
 * the spill's entries land one per page at first: 16 MiB when all 4,096 pages are touched
 * (measured: 15.2 MiB resident with ~13,000 stacks in it), small next to a whole test suite. */
#define STACK_SPILL_SLOTS (1u << 20)
#define STACK_PROBES 64u
#define STACK_CAP_TXT "1081344" /* STACK_SLOTS + STACK_SPILL_SLOTS, for the warning */
_Static_assert(STACK_SLOTS + STACK_SPILL_SLOTS == 1081344, "update STACK_CAP_TXT");

struct stack_slot {
    _Atomic uint64_t hash; /* 0 = empty; never removed */
    _Atomic uint32_t id;
};
static struct stack_slot *stack_table;
static _Atomic(struct stack_slot *) stack_spill; /* NULL until the primary first has no room */
static ngr_spin stack_lock;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

/* Per-thread memo of recent stacks, keyed by the innermost three frames (address, code, offset):
 * while a frame runs, the frames below it do not change, so three levels identify the stack
 * except when all three are new activations at the same addresses and offsets (then the stack
 * shown may name an older caller above them: diagnostics only, never a variable or a lock). */
#define MEMO_SLOTS 256
struct memo { uint64_t key; uint32_t id, depth_opt; bool crowded; };
static __thread struct memo stack_memo[MEMO_SLOTS];

static uint32_t stack_walk(ngr_vframe *f, int offset, bool *crowded);

uint32_t ngr_stack_here(ngr_vframe *f, int offset)
{
    if (!f)
        return 0;
    uint64_t key = 0x9e3779b97f4a7c15ull;
    ngr_vframe *g = f;
    int off = offset;
    for (int i = 0; i < 3 && g; i++, g = ngr_v_frame_back(g), off = -1) {
        key = mix(key, (uint64_t)(uintptr_t)g);
        key = mix(key, (uint64_t)(uintptr_t)ngr_v_frame_code(g));
        key = mix(key, (uint64_t)(off >= 0 ? off : ngr_v_frame_offset(g)));
    }
    key |= 1;
    unsigned opt = ngr_options()->stack_depth;
    struct memo *m = &stack_memo[(key >> 7) & (MEMO_SLOTS - 1)];
    if (m->key == key && m->depth_opt == opt && (m->id || m->crowded))
        return m->id;
    bool crowded = false;
    uint32_t id = stack_walk(f, offset, &crowded);
    *m = (struct memo){key, id, opt, crowded};
    return id;
}

static _Atomic int stacks_full;

/* A table's probe window for hash h (the spill table indexes by other bits of h than the primary,
 * so stacks crowded in one primary window spread out in it). */
static uint32_t slot0(uint64_t h, uint32_t slots)
{
    return (uint32_t)(slots == STACK_SLOTS ? h >> 20 : h >> 40) & (slots - 1);
}

/* Lock-free: the id of stack h in table t, else 0 with *room = the window ends in an empty slot
 * (slots are never emptied again, so then h is in no spill table either and an insert has a
 * place here). */
static uint32_t tab_find(struct stack_slot *t, uint32_t slots, uint64_t h, bool *room)
{
    uint32_t mask = slots - 1, i = slot0(h, slots);
    *room = false;
    for (unsigned probe = 0; probe < STACK_PROBES; probe++, i = (i + 1) & mask) {
        uint64_t sh = atomic_load_explicit(&t[i].hash, memory_order_acquire);
        if (sh == h)
            return atomic_load_explicit(&t[i].id, memory_order_acquire);
        if (sh == 0) {
            *room = true;
            return 0;
        }
    }
    return 0;
}

/* Under stack_lock: the id of stack h in table t, defining it in the first empty slot of its
 * window if it is not there (the slot is found before the stack is defined: a stack with no slot
 * is never defined); 0 when the window is full.  id, then hash (release): a reader that sees the
 * hash sees the id. */
static uint32_t tab_put_locked(struct stack_slot *t, uint32_t slots, uint64_t h,
                               const uint32_t *locs, unsigned depth)
{
    uint32_t mask = slots - 1, i = slot0(h, slots);
    for (unsigned probe = 0; probe < STACK_PROBES; probe++, i = (i + 1) & mask) {
        uint64_t sh = atomic_load_explicit(&t[i].hash, memory_order_relaxed);
        if (sh == h)
            return atomic_load_explicit(&t[i].id, memory_order_relaxed);
        if (sh == 0) {
            uint32_t id = ngr_new_stack_id();
            ngr_define_stack(id, locs, depth);
            atomic_store_explicit(&t[i].id, id, memory_order_release);
            atomic_store_explicit(&t[i].hash, h, memory_order_release);
            return id;
        }
    }
    return 0;
}

/* Under stack_lock: the primary, else the spill table (mapped here the first time: one mmap, once
 * per process). */
static uint32_t stack_put_locked(uint64_t h, const uint32_t *locs, unsigned depth)
{
    uint32_t id = tab_put_locked(stack_table, STACK_SLOTS, h, locs, depth);
    if (id)
        return id;
    struct stack_slot *sp = atomic_load_explicit(&stack_spill, memory_order_relaxed);
    if (!sp) {
        void *p = mmap(NULL, STACK_SPILL_SLOTS * sizeof(struct stack_slot), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return 0;
        sp = p;
        atomic_store_explicit(&stack_spill, sp, memory_order_release);
    }
    return tab_put_locked(sp, STACK_SPILL_SLOTS, h, locs, depth);
}

/* *crowded: no slot for this stack (both tables full around it): it is recorded as no stack, and
 * the memo keeps that answer too, so an access there does not walk and probe every time. */
static uint32_t stack_walk(ngr_vframe *f, int offset, bool *crowded)
{
    if (!stack_table) {
        void *p = mmap(NULL, STACK_SLOTS * sizeof(struct stack_slot), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return 0;
        ngr_spin_lock(&stack_lock);
        if (!stack_table)
            stack_table = p;
        else
            munmap(p, STACK_SLOTS * sizeof(struct stack_slot));
        ngr_spin_unlock(&stack_lock);
    }
    unsigned want = ngr_options()->stack_depth;
    if (want == 0)
        return 0;
    if (want > MAX_DEPTH)
        want = MAX_DEPTH;
    uint32_t locs[MAX_DEPTH];
    unsigned depth = 0;
    uint64_t h = 0x12345;
    for (; f && depth < want; f = ngr_v_frame_back(f), offset = -1) {
        PyCodeObject *co = ngr_v_frame_code(f);
        if (!co)
            continue;
        struct ngr_codeinfo *ci = ngr_codeinfo_get(co);
        if (!ci)
            continue;
        int off = offset >= 0 ? offset : ngr_v_frame_offset(f);
        uint32_t loc = ngr_codeinfo_location(co, ci, off);
        if (!loc)
            continue;
        locs[depth++] = loc;
        h = mix(h, loc);
    }
    if (depth == 0)
        return 0;
    h |= 1;
    /* lock-free in both tables; only a stack never seen before takes the lock */
    bool room;
    uint32_t id = tab_find(stack_table, STACK_SLOTS, h, &room);
    if (id)
        return id;
    if (!room) {
        struct stack_slot *sp = atomic_load_explicit(&stack_spill, memory_order_acquire);
        if (sp) {
            id = tab_find(sp, STACK_SPILL_SLOTS, h, &room);
            if (id)
                return id;
            if (!room)
                goto full; /* nothing is ever removed: it cannot go in, now or later */
        }
    }
    ngr_spin_lock(&stack_lock);
    id = stack_put_locked(h, locs, depth);
    ngr_spin_unlock(&stack_lock);
    if (id)
        return id;
full:
    /* both tables crowded here: no stack rather than a slow path (stacks are diagnostics only) */
    *crowded = true;
    ngr_acc_table_full(&stacks_full, "stack table full (" STACK_CAP_TXT " entries): accesses at "
                       "Python stacks first seen from now on are recorded without a stack");
    return 0;
}

/* ---- frame identities ---------------------------------------------------------------------- */

#define FRAME_SLOTS 32
struct frame_slot {
    const void *frame, *code, *caller;
    int last_offset, caller_offset;
    uint64_t id;
};
static __thread struct frame_slot frame_slots[FRAME_SLOTS];
static __thread uint64_t frame_serial;

uint64_t ngr_frame_id(ngr_vframe *f, PyCodeObject *co, int offset)
{
    uintptr_t a = (uintptr_t)f;
    struct frame_slot *s = &frame_slots[(a >> 4 ^ a >> 10) & (FRAME_SLOTS - 1)];
    /* The caller and its call instruction: a new activation at the same address called from
     * elsewhere is a new frame even if its first access comes later in the code. */
    ngr_vframe *up = ngr_v_frame_back(f);
    int up_off = up ? ngr_v_frame_offset(up) : -1;
    if (s->frame == f && s->code == co && offset > s->last_offset && s->caller == up &&
        s->caller_offset == up_off) {
        s->last_offset = offset;
        return s->id;
    }
    s->frame = f;
    s->code = co;
    s->caller = up;
    s->caller_offset = up_off;
    s->last_offset = offset;
    s->id = (uint64_t)ngr_thread_num() << 40 | (++frame_serial & ((1ull << 40) - 1));
    return s->id;
}

uint32_t ngr_py_stack_id(void)
{
    ngr_vframe *f = ngr_v_current_frame();
    return f ? ngr_stack_here(f, -1) : 0;
}
