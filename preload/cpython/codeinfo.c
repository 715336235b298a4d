/* codeinfo.c — per code object: its instructions and the operand-stack depth before each one.
 *
 * Why: in 3.13 a frame's stack pointer is not kept up to date while a monitoring callback runs,
 * so the receiver of `x[k]`, `obj.attr` or `k in d` is found at a depth computed here, once per
 * code object, by a flow analysis over the deoptimised bytecode (PyCode_GetCode) with the
 * interpreter's own stack effects (PyCompile_OpcodeStackEffectWithJump) and its exception table.
 * Where two paths disagree about a depth, that instruction's depth is unknown (-1) and the hooks
 * skip it rather than guess: reading a stale stack slot could touch a freed object.
 */
#include "acc.h"

#include <stdlib.h>
#include <string.h>

static Py_ssize_t extra_index = -1;
static ngr_spin set_lock;

static void info_free(void *p)
{
    struct ngr_codeinfo *ci = p;
    if (!ci)
        return;
    free(ci->op);
    free(ci->arg);
    free(ci->depth);
    free((void *)ci->loc);
    free((void *)ci->cache);
    free(ci);
}

int ngr_codeinfo_init(void)
{
    extra_index = PyUnstable_Eval_RequestCodeExtraIndex(info_free);
    return extra_index < 0 ? -1 : 0;
}

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

static void walk(struct ngr_codeinfo *ci, struct work *stack, int *top, int cap, int unit, int d,
                 int stacksize)
{
    while (unit >= 0 && unit < ci->n_units) {
        if (d < 0 || d > stacksize)
            return;
        /* EXTENDED_ARG prefixes share the depth of their instruction. */
        int i = unit;
        while (i < ci->n_units && ci->op[i] == ngr_op.EXTENDED_ARG)
            i++;
        if (i >= ci->n_units)
            return;
        for (int u = unit; u <= i; u++) {
            if (ci->depth[u] == -2)
                return;
            if (ci->depth[u] >= 0) {
                if (ci->depth[u] != d)
                    ci->depth[u] = -2; /* paths disagree: unknown */
                return;
            }
            ci->depth[u] = (int16_t)d;
        }
        int op = ci->op[i], arg = ci->arg[i];
        int next = i + 1 + ngr_op.caches[op];
        if (ngr_op.jrel[op]) {
            int target = ngr_op.jback[op] ? next - arg : next + arg;
            int ej = PyCompile_OpcodeStackEffectWithJump(op, arg, 1);
            if (ej != PY_INVALID_STACK_EFFECT && *top < cap)
                stack[(*top)++] = (struct work){target, d + ej};
        }
        if (ngr_op.noflow[op])
            return;
        int e = PyCompile_OpcodeStackEffectWithJump(op, arg, 0);
        if (e == PY_INVALID_STACK_EFFECT)
            return;
        d += e;
        unit = next;
    }
}

static struct ngr_codeinfo *analyse(PyCodeObject *co)
{
    PyObject *bytes = PyCode_GetCode(co);
    if (!bytes || !PyBytes_Check(bytes)) {
        Py_XDECREF(bytes);
        PyErr_Clear();
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
    int n = (int)(PyBytes_GET_SIZE(bytes) / 2);
    struct ngr_codeinfo *ci = calloc(1, sizeof *ci);
    if (!ci)
        goto nomem;
    ci->n_units = n;
    ci->op = calloc((size_t)n + 1, 1);
    ci->arg = calloc((size_t)n + 1, sizeof *ci->arg);
    ci->depth = malloc(((size_t)n + 1) * sizeof *ci->depth);
    ci->loc = calloc((size_t)n + 1, sizeof *ci->loc);
    if (!ci->op || !ci->arg || !ci->depth || !ci->loc)
        goto nomem;
    for (int i = 0; i <= n; i++)
        ci->depth[i] = -1;
    int ext = 0;
    for (int i = 0; i < n;) {
        int op = b[2 * i], arg = (ext << 8) | b[2 * i + 1];
        ci->op[i] = (uint8_t)op;
        ci->arg[i] = arg;
        if (op == ngr_op.EXTENDED_ARG) {
            ext = arg;
            i++;
            continue;
        }
        ext = 0;
        i += 1 + ngr_op.caches[op];
    }

    int cap = 4 * n + 64, top = 0;
    struct work *stack = malloc((size_t)cap * sizeof *stack);
    if (!stack)
        goto nomem;
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
    while (top > 0) {
        struct work w = stack[--top];
        walk(ci, stack, &top, cap, w.unit, w.depth, co->co_stacksize);
    }
    free(stack);

    char buf[2048];
    size_t len;
    const char *s;
    if ((s = ngr_str_utf8(co->co_filename, buf, sizeof buf, &len)))
        ci->file_str = ngr_intern_string(s, len);
    if ((s = ngr_str_utf8(co->co_qualname, buf, sizeof buf, &len)))
        ci->func_str = ngr_intern_string(s, len);
    Py_DECREF(bytes);
    return ci;
nomem:
    info_free(ci);
    Py_DECREF(bytes);
    return NULL;
}

struct ngr_codeinfo *ngr_codeinfo_get(PyCodeObject *co)
{
    void *p = NULL;
    if (PyUnstable_Code_GetExtra((PyObject *)co, extra_index, &p) == 0 && p)
        return p;
    PyErr_Clear();
    struct ngr_codeinfo *ci = analyse(co);
    if (!ci)
        return NULL;
    ngr_spin_lock(&set_lock);
    p = NULL;
    if (PyUnstable_Code_GetExtra((PyObject *)co, extra_index, &p) == 0 && p) {
        ngr_spin_unlock(&set_lock);
        info_free(ci);
        return p;
    }
    if (PyUnstable_Code_SetExtra((PyObject *)co, extra_index, ci) != 0) {
        PyErr_Clear();
        ngr_spin_unlock(&set_lock);
        info_free(ci);
        return NULL;
    }
    ngr_spin_unlock(&set_lock);
    return ci;
}

_Atomic uint64_t *ngr_codeinfo_cache(struct ngr_codeinfo *ci)
{
    _Atomic uint64_t *c = atomic_load_explicit(&ci->cache, memory_order_acquire);
    if (c)
        return c;
    /* most code objects (module bodies, code run once) never need it: allocate on demand */
    _Atomic uint64_t *fresh = calloc((size_t)ci->n_units + 1, sizeof *fresh);
    if (!fresh)
        return NULL;
    _Atomic uint64_t *expected = NULL;
    if (atomic_compare_exchange_strong(&ci->cache, &expected, fresh))
        return fresh;
    free((void *)fresh);
    return expected;
}

uint32_t ngr_codeinfo_location(PyCodeObject *co, struct ngr_codeinfo *ci, int offset)
{
    int unit = offset / 2;
    if (unit < 0 || unit >= ci->n_units)
        return 0;
    uint32_t id = atomic_load_explicit(&ci->loc[unit], memory_order_acquire);
    if (id)
        return id;
    int line = PyCode_Addr2Line(co, offset);
    id = ngr_new_location_id();
    ngr_define_location(id, ci->file_str, ci->func_str, line > 0 ? (uint32_t)line : 0);
    /* Two threads may both define one: harmless, the later id wins and both are valid. */
    atomic_store_explicit(&ci->loc[unit], id, memory_order_release);
    return id;
}
