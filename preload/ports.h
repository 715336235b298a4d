/* ports.h — the CPython versions nogilrace has hooks for (one preload/cpython/ver_<XY>.c each).
 *
 * The shim uses it only to word its message when a Python runs untraced: a missing hooks library
 * of a ported version can be built (`make PYTHON=...`), one of any other version cannot.
 * scripts/hooks-port derives the same list from the ver_<XY>.c files, and t_build_port.sh checks
 * that the two agree.
 */
#ifndef NGR_PORTS_H
#define NGR_PORTS_H

#define NGR_PORTS_TEXT "3.13, 3.14, 3.15"
#define NGR_PORT_FIRST_MINOR 13 /* 3.13 */
#define NGR_PORT_LAST_MINOR 15  /* 3.15 */

#endif
