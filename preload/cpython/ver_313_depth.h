/* ver_313_depth.h — 3.13's operand-stack depths, for ver_313.c only. */
#ifndef NGR_CPYTHON_VER_313_DEPTH_H
#define NGR_CPYTHON_VER_313_DEPTH_H

#include <Python.h>
#include <stdint.h>

#include "ver_raw.h"

/* The operand-stack depth before each of the n code units of co (raw: ver_decode.h's form of
 * its instructions), -1 where it is unknown: a new array (malloc), NULL without memory. */
int16_t *ngr_v313_depths(PyCodeObject *co, const struct ngr_raw_insn *raw, int n);

#endif
