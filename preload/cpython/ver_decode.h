/* ver_decode.h — bytecode to instruction kinds (ver.h), for 3.13 to 3.15.
 *
 * Included by one ver_<XY>.c (one per build): it defines the interpreter's opcode metadata tables
 * in this library (NEED_OPCODE_METADATA: libpython does not export them) and the decoder, compiled
 * against that version's opcode_ids.h, so every opcode number comes from the interpreter's own
 * headers.  What differs between versions is spelled with #ifdef on the opcode's name.
 */
#ifndef NGR_CPYTHON_VER_DECODE_H
#define NGR_CPYTHON_VER_DECODE_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define NEED_OPCODE_METADATA
#include "internal/pycore_opcode_metadata.h"
#include "opcode.h" /* NB_SUBSCR (3.14+) */
#pragma GCC diagnostic pop

#include <stdlib.h>

#include "ver_raw.h"

static bool is_backward_jump(int op)
{
    return op == JUMP_BACKWARD || op == JUMP_BACKWARD_NO_INTERRUPT;
}

static bool never_falls_through(int op)
{
    switch (op) {
    case JUMP_FORWARD: case JUMP_BACKWARD: case JUMP_BACKWARD_NO_INTERRUPT: case RETURN_VALUE:
#ifdef RETURN_CONST
    case RETURN_CONST:
#endif
    case RAISE_VARARGS: case RERAISE: case INTERPRETER_EXIT:
        return true;
    default:
        return false;
    }
}

/* The kind of one deoptimised instruction; *arg becomes the kind's argument (ver.h). */
static uint8_t kind_of(int op, int32_t *arg)
{
    switch (op) {
    case LOAD_GLOBAL: *arg >>= 1; return NGR_I_LOAD_GLOBAL;
    case LOAD_ATTR: {
        bool method = *arg & 1;
        *arg >>= 1;
        return method ? NGR_I_LOAD_METHOD : NGR_I_LOAD_ATTR;
    }
    case STORE_ATTR: return NGR_I_STORE_ATTR;
    case DELETE_ATTR: return NGR_I_DELETE_ATTR;
#ifdef BINARY_SUBSCR
    case BINARY_SUBSCR: return NGR_I_SUBSCR;                  /* 3.13 */
#else
    case BINARY_OP: return *arg == NB_SUBSCR ? NGR_I_SUBSCR : NGR_I_NONE; /* 3.14: c[k] */
#endif
    case STORE_SUBSCR: return NGR_I_STORE_SUBSCR;
    case DELETE_SUBSCR: return NGR_I_DELETE_SUBSCR;
    case CONTAINS_OP: return NGR_I_CONTAINS;
    case GET_ITER: return NGR_I_GET_ITER;
    case TO_BOOL: return NGR_I_TO_BOOL;
    case CALL: return NGR_I_CALL;
    case STORE_GLOBAL: return NGR_I_STORE_GLOBAL;
    case DELETE_GLOBAL: return NGR_I_DELETE_GLOBAL;
    /* the argument of the *_DEREF opcodes is the fast-local index itself (3.11 and later) */
    case LOAD_DEREF: return NGR_I_LOAD_DEREF;
    case STORE_DEREF: return NGR_I_STORE_DEREF;
    case DELETE_DEREF: return NGR_I_DELETE_DEREF;
    case LOAD_FROM_DICT_OR_DEREF: return NGR_I_LOAD_DICT_OR_DEREF;
    default: return NGR_I_NONE;
    }
}

/* Decode co (ngr_v_decode's contract), and when `raw` is given also its raw form (malloc'ed,
 * n + 1 entries, the caller frees). */
static int decode_code(PyCodeObject *co, struct ngr_insn **insns, int *n_units,
                       struct ngr_raw_insn **raw)
{
    PyObject *bytes = PyCode_GetCode(co); /* deoptimised: base opcodes only */
    if (!bytes || !PyBytes_Check(bytes)) {
        Py_XDECREF(bytes);
        PyErr_Clear();
        return -1;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
    int n = (int)(PyBytes_GET_SIZE(bytes) / 2);
    struct ngr_insn *in = calloc((size_t)n + 1, sizeof *in);
    struct ngr_raw_insn *r = calloc((size_t)n + 1, sizeof *r);
    if (!in || !r) {
        free(in);
        free(r);
        Py_DECREF(bytes);
        return -1;
    }
    int ext = 0;
    for (int i = 0; i < n;) {
        int op = b[2 * i];
        int32_t arg = (ext << 8) | b[2 * i + 1];
        int next = i + 1 + (op < 256 ? _PyOpcode_Caches[op] : 0);
        r[i] = (struct ngr_raw_insn){.op = (uint8_t)op, .start = true, .arg = arg, .next = next,
                                     .target = -1, .ends_flow = never_falls_through(op)};
        if (op == EXTENDED_ARG) {
            r[i].next = i + 1;
            r[i].prefix = true;
            r[i].ends_flow = false;
            ext = arg;
            i++;
            continue;
        }
        ext = 0;
        if (OPCODE_HAS_JUMP(op))
            r[i].target = is_backward_jump(op) ? next - arg : next + arg;
        in[i].kind = kind_of(op, &arg);
        in[i].arg = arg;
        i = next;
    }
    for (int i = 0; i < n; i++) {
        /* A for loop: GET_ITER, FOR_ITER; an exhausted FOR_ITER goes to its END_FOR's successor
         * (3.13: past it, and past the POP_TOP after it; 3.14+: to the POP_ITER after it), and
         * the loop is left at the instruction after those two. */
        if (in[i].kind == NGR_I_GET_ITER) {
            int f = r[i].next;
            int exit = f < n && r[f].op == FOR_ITER && r[f].target >= 0 ? r[f].target + 2 : -1;
            in[i].arg = exit < n ? exit : -1;
        }
        if (i >= 2 && r[i - 2].start && r[i - 2].op == END_FOR)
            in[i].flags |= NGR_IF_LOOP_EXIT;
    }
    Py_DECREF(bytes);
    *insns = in;
    *n_units = n;
    if (raw)
        *raw = r;
    else
        free(r);
    return 0;
}

#endif
