/* ver_313_depth.c — the operand-stack depth before each instruction of a 3.13 code object.
 *
 * Why: in 3.13 a frame's stack pointer is not kept up to date while a monitoring callback runs,
 * so the receiver of `x[k]`, `obj.attr` or `k in d` is found at a depth computed here, once per
 * code object, by a flow analysis over the decoded instructions (ver_raw.h: successors and jump
 * targets, from the interpreter's own metadata) with its own stack effects
 * (PyCompile_OpcodeStackEffectWithJump) and its exception table.  Where two
 * paths disagree about a depth, that instruction's depth is unknown (-1) and the hooks skip it
 * rather than guess: reading a stale stack slot could touch a freed object.
 */
#include <Python.h>
#include <stdlib.h>

#include "ver_313_depth.h"

/* Exception-table varint: 6 bits a byte, 0x40 = more follows (Objects/exception_handling_notes). */
static int read_varint(const unsigned char *p, Py_ssize_t n, Py_ssize_t *i, int *out)
{
    if (*i >= n)
        return -1;
    unsigned b = p[(*i)++];
    long v = b & 63;
    while (b & 64) {
        if (*i >= n || v > (1L << 24))
            return -1;
        b = p[(*i)++];
        v = (v << 6) | (b & 63);
    }
    *out = (int)v;
    return 0;
}

struct work { int unit, depth; };
struct flow { const struct ngr_raw_insn *raw; int16_t *depth; int n; };

static void walk(struct flow *fl, struct work *stack, int *top, int cap, int unit, int d, int stacksize)
{
    while (unit >= 0 && unit < fl->n) {
        if (d < 0 || d > stacksize)
            return;
        /* EXTENDED_ARG prefixes share the depth of their instruction. */
        int i = unit;
        while (i < fl->n && fl->raw[i].prefix)
            i++;
        if (i >= fl->n || !fl->raw[i].start)
            return;
        for (int u = unit; u <= i; u++) {
            if (fl->depth[u] == -2)
                return;
            if (fl->depth[u] >= 0) {
                if (fl->depth[u] != d)
                    fl->depth[u] = -2; /* paths disagree: unknown */
                return;
            }
            fl->depth[u] = (int16_t)d;
        }
        const struct ngr_raw_insn *r = &fl->raw[i];
        if (r->target >= 0) {
            int ej = PyCompile_OpcodeStackEffectWithJump(r->op, r->arg, 1);
            if (ej != PY_INVALID_STACK_EFFECT && *top < cap)
                stack[(*top)++] = (struct work){r->target, d + ej};
        }
        if (r->ends_flow)
            return;
        int e = PyCompile_OpcodeStackEffectWithJump(r->op, r->arg, 0);
        if (e == PY_INVALID_STACK_EFFECT)
            return;
        d += e;
        unit = r->next;
    }
}

int16_t *ngr_v313_depths(PyCodeObject *co, const struct ngr_raw_insn *raw, int n)
{
    int16_t *depth = malloc(((size_t)n + 1) * sizeof *depth);
    int cap = 4 * n + 64, top = 0;
    struct work *stack = malloc((size_t)cap * sizeof *stack);
    if (!depth || !stack) {
        free(depth);
        free(stack);
        return NULL;
    }
    for (int i = 0; i <= n; i++)
        depth[i] = -1;
    stack[top++] = (struct work){0, 0};
    /* Exception handlers start at the recorded depth, plus lasti, plus the exception. */
    PyObject *table = co->co_exceptiontable;
    if (table && PyBytes_Check(table)) {
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(table);
        Py_ssize_t len = PyBytes_GET_SIZE(table), i = 0;
        int start, length, target, dl;
        while (i < len && top < cap) {
            if (read_varint(p, len, &i, &start) || read_varint(p, len, &i, &length) ||
                read_varint(p, len, &i, &target) || read_varint(p, len, &i, &dl))
                break;
            stack[top++] = (struct work){target, (dl >> 1) + (dl & 1) + 1};
        }
    }
    struct flow fl = {raw, depth, n};
    while (top > 0) {
        struct work w = stack[--top];
        walk(&fl, stack, &top, cap, w.unit, w.depth, co->co_stacksize);
    }
    free(stack);
    for (int i = 0; i < n; i++)
        if (depth[i] < 0)
            depth[i] = -1;
    return depth;
}
