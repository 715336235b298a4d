/* iteration.c — `for x in c` over a traced container: one span, ITER_BEGIN at GET_ITER and
 * ITER_END when the loop is left, so that a write by another thread inside the span is an
 * iteration during mutation.  An iteration that is not a for loop (`list(c)` compiled as
 * GET_ITER alone, unpacking ...) is a span of its own instruction.
 *
 * Open spans are kept per thread (a few: nested loops), keyed by frame and exit unit; the exit
 * instruction (the version layer flags it NGR_IF_LOOP_EXIT) closes them.  A loop left by
 * `break`, `return` or an exception leaves its span open until the slot is reused: the analyzer
 * then sees an iteration that lasted longer, never a shorter one.
 *
 * Iterators and generators themselves (held in module state, or a generator shared by threads)
 * have a position that next() reads and moves: `next(IT)` and a for loop over IT are a
 * read-modify-write of it, which two threads must not do at once.
 */
#include "site.h"

#define OPEN_ITERS 8
struct open_iter { const void *frame; int exit_unit; uint32_t var; uint64_t fid; };
static __thread struct open_iter open_iters[OPEN_ITERS];
static __thread unsigned open_next;

void ngr_iter_loop_exit(const struct ngr_site *s)
{
    for (unsigned i = 0; i < OPEN_ITERS; i++) {
        struct open_iter *o = &open_iters[i];
        if (o->frame == s->f && o->exit_unit == s->unit && o->var) {
            ngr_emit_access(NGR_ACC_ITER_END, o->var, 0, o->fid, ngr_stack_here(s->f, s->off));
            o->var = 0;
        }
    }
}

bool ngr_iter_advance(const struct ngr_site *s, PyObject *it)
{
    if (!ngr_is_iterator(it))
        return false;
    uint32_t var = ngr_site_object_var(s, it);
    if (!var)
        return false;
    ngr_acc_emit_rmw(s->f, s->off, var, 0);
    return true;
}

enum ngr_verdict ngr_on_get_iter(const struct ngr_site *s)
{
    if (!ngr_site_stack_known(s, 1))
        return NGR_DISABLE;
    PyObject *it = ngr_site_peek(s, 1);
    if (!it)
        return NGR_KEEP;
    /* `for x in IT` over an iterator shared by threads: each step moves it (one read-modify-write
     * stands for the loop's) */
    if (ngr_iter_advance(s, it))
        return NGR_KEEP;
    PyObject *d = ngr_v_dictview_dict(it);
    uint32_t var = ngr_site_object_var(s, d ? d : it);
    if (!var)
        return ngr_is_container_like(it) ? NGR_KEEP : NGR_DISABLE; /* a range, a str, a generator ... */
    uint64_t fid = ngr_frame_id(s->f, s->co, s->off);
    uint32_t st = ngr_stack_here(s->f, s->off);
    ngr_emit_access(NGR_ACC_ITER_BEGIN, var, 0, fid, st);
    if (s->arg >= 0)
        open_iters[open_next++ % OPEN_ITERS] = (struct open_iter){s->f, s->arg, var, fid};
    else
        ngr_emit_access(NGR_ACC_ITER_END, var, 0, fid, st);
    return NGR_KEEP;
}
