/* ver_313_depth.h — 3.13's operand-stack depths, for ver_313.c only. */
#ifndef NGR_CPYTHON_VER_313_DEPTH_H
#define NGR_CPYTHON_VER_313_DEPTH_H

#include <Python.h>
#include <stdint.h>

/* Inline cache entries (code units) after an instruction with base opcode `op`. */
int ngr_v313_caches(int op);

/* The operand-stack depth before each of the n code units of co (op/arg: the deoptimised opcode
 * and the full argument, EXTENDED_ARG folded in, at each instruction start; 0 elsewhere), -1
 * where it is unknown: a new array (malloc), NULL without memory. */
int16_t *ngr_v313_depths(PyCodeObject *co, const uint8_t *op, const int32_t *arg, int n);

#endif
