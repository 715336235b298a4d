/* ver_raw.h — the version layer's intermediate form of bytecode (types only): each instruction's
 * deoptimised opcode and full argument, and the units control can go to next.  Made by
 * ver_decode.h, read by 3.13's stack-depth analysis (ver_313_depth.c). */
#ifndef NGR_CPYTHON_VER_RAW_H
#define NGR_CPYTHON_VER_RAW_H

#include <stdbool.h>
#include <stdint.h>

struct ngr_raw_insn {
    uint8_t op;         /* deoptimised opcode at an instruction start (EXTENDED_ARG prefixes
                           included), 0 inside inline caches */
    bool start;         /* an instruction (or an EXTENDED_ARG prefix) starts here */
    bool prefix;        /* an EXTENDED_ARG prefix: its instruction is the next unit */
    bool ends_flow;     /* never falls through (unconditional jump, return, raise) */
    int32_t arg;        /* full argument, EXTENDED_ARG folded in */
    int next;           /* unit after the instruction and its caches */
    int target;         /* jump target unit, -1 if it does not jump */
};

#endif
