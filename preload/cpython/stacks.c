/* stacks.c — Python stacks as interned ids, and function-activation identities.
 *
 * Stacks: walk up to NOGILRACE_STACK_DEPTH frames, map each (code, instruction) to a location id
 * (cached per instruction in codeinfo), hash the sequence and look it up in a lock-free
 * open-addressing table; only a stack never seen before takes the spinlock and is defined in the
 * trace.  The table lives in an anonymous mapping: untouched pages cost no memory.
 *
 * frame_id: the analyzer pairs a read and a later write made by one function call.  Frame memory
 * is reused by the next call at the same depth, so the address alone would pair accesses of two
 * calls.  Per thread we remember, for recently seen frames, the code object and the offset of the
 * last access; an access at an offset not after that one starts a new activation id.  That also
 * splits loop iterations, which is what pairing wants (`counter += 1` in a loop pairs within one
 * iteration).  A forgotten frame just starts a new id: a missed pairing, never a false one.
 */
#include "acc.h"

#include <string.h>
#include <sys/mman.h>

#define MAX_DEPTH 64
#define STACK_SLOTS (1u << 18)

struct stack_slot {
    _Atomic uint64_t hash; /* 0 = empty */
    _Atomic uint32_t id;
};
static struct stack_slot *stack_table;
static ngr_spin stack_lock;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

uint32_t ngr_stack_here(ngr_vframe *f, int offset)
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
    uint32_t mask = STACK_SLOTS - 1, i = (uint32_t)(h >> 20) & mask;
    for (unsigned probe = 0; probe < 64; probe++, i = (i + 1) & mask) {
        uint64_t sh = atomic_load_explicit(&stack_table[i].hash, memory_order_acquire);
        if (sh == h) {
            uint32_t id = atomic_load_explicit(&stack_table[i].id, memory_order_acquire);
            if (id)
                return id;
        }
        if (sh == 0) {
            ngr_spin_lock(&stack_lock);
            sh = atomic_load_explicit(&stack_table[i].hash, memory_order_relaxed);
            uint32_t id = 0;
            if (sh == 0) {
                id = ngr_new_stack_id();
                ngr_define_stack(id, locs, depth);
                atomic_store_explicit(&stack_table[i].id, id, memory_order_release);
                atomic_store_explicit(&stack_table[i].hash, h, memory_order_release);
            } else if (sh == h) {
                id = atomic_load_explicit(&stack_table[i].id, memory_order_acquire);
            }
            ngr_spin_unlock(&stack_lock);
            if (id)
                return id;
        }
    }
    return 0; /* table crowded here: no stack rather than a slow path */
}

/* ---- frame identities ---------------------------------------------------------------------- */

#define FRAME_SLOTS 32
struct frame_slot {
    const void *frame, *code;
    int last_offset;
    uint64_t id;
};
static __thread struct frame_slot frame_slots[FRAME_SLOTS];
static __thread uint64_t frame_serial;

uint64_t ngr_frame_id(ngr_vframe *f, PyCodeObject *co, int offset)
{
    uintptr_t a = (uintptr_t)f;
    struct frame_slot *s = &frame_slots[(a >> 4 ^ a >> 10) & (FRAME_SLOTS - 1)];
    if (s->frame == f && s->code == co && offset > s->last_offset) {
        s->last_offset = offset;
        return s->id;
    }
    s->frame = f;
    s->code = co;
    s->last_offset = offset;
    s->id = (uint64_t)ngr_thread_num() << 40 | (++frame_serial & ((1ull << 40) - 1));
    return s->id;
}

void ngr_acc_emit(ngr_vframe *f, int offset, unsigned kind, uint32_t var_id, uint64_t key_id)
{
    if (!f || !var_id)
        return;
    PyCodeObject *co = ngr_v_frame_code(f);
    if (offset < 0)
        offset = ngr_v_frame_offset(f);
    uint64_t fid = ngr_frame_id(f, co, offset);
    ngr_emit_access(kind, var_id, key_id, fid, ngr_stack_here(f, offset));
}
