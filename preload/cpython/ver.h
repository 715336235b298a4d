/* ver.h — the interpreter internals the access hooks need, behind a version-neutral API.
 *
 * One implementation file per CPython version (ver_313.c for 3.13; a 3.14 port adds ver_314.c):
 * the Makefile compiles the one matching the interpreter.  Frames are opaque here.  Every
 * function is called with the calling thread attached, and none runs Python code.
 */
#ifndef NGR_CPYTHON_VER_H
#define NGR_CPYTHON_VER_H

#include <Python.h>
#include <stdint.h>

typedef struct ngr_vframe ngr_vframe; /* a _PyInterpreterFrame, never dereferenced outside ver_*.c */

/* The innermost Python frame of the calling thread that belongs to Python code (frames owned by
 * the C stack, shims, are skipped); NULL when none. */
ngr_vframe *ngr_v_current_frame(void);
/* The next outer Python frame, with the same skipping; NULL at the bottom. */
ngr_vframe *ngr_v_frame_back(ngr_vframe *f);
/* The frame's code object (borrowed), or NULL if it is not a code object. */
PyCodeObject *ngr_v_frame_code(ngr_vframe *f);
/* Byte offset of the instruction the frame executes now (or is about to). */
int ngr_v_frame_offset(ngr_vframe *f);
/* The frame's globals dict (borrowed). */
PyObject *ngr_v_frame_globals(ngr_vframe *f);
/* Operand-stack slot `index` (0 = bottom) of frame f, borrowed; the caller knows the depth from
 * its own analysis of the code object.  NULL if the index is outside co_stacksize. */
PyObject *ngr_v_frame_stack(ngr_vframe *f, int index);
/* The frame's fast local number i (borrowed, may be NULL). */
PyObject *ngr_v_frame_local(ngr_vframe *f, int i);

/* The underlying dict of a dict view (keys/values/items), borrowed, or NULL. */
PyObject *ngr_v_dictview_dict(PyObject *view);

/* dict[name] for an exact str `name`, borrowed, NULL if absent — but only when the dict holds
 * nothing but str keys, so that the lookup cannot call a user __eq__ (a key whose hash collides
 * with `name`).  Otherwise NULL with *unsafe set.  No exception is left set. */
PyObject *ngr_v_dict_get_str(PyObject *dict, PyObject *name, int *unsafe);
/* The same with a C string name (interned once per call site by the caller's static cache). */
PyObject *ngr_v_dict_get_cstr(PyObject *dict, const char *name);

#endif
