/* pystack.h — the current Python stack as an interned stack id, for the other half of the hooks
 * library (sync events want the same stacks as accesses).
 *
 * ngr_py_stack_id: the calling thread's Python stack (NOGILRACE_STACK_DEPTH frames, innermost
 * first), defined in the trace on first sight and cached, so repeated stacks cost a walk and a
 * hash lookup.  0 when the thread runs no Python code.  Called attached; runs no Python code.
 */
#ifndef NGR_CPYTHON_PYSTACK_H
#define NGR_CPYTHON_PYSTACK_H

#include <stdint.h>

__attribute__((visibility("hidden"))) uint32_t ngr_py_stack_id(void);

#endif
