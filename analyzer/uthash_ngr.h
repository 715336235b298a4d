/* uthash_ngr.h — uthash (Debian uthash-dev), the hash table of the analyzer's tables keyed by
 * strings: findings grouped by id within a report and across runs (merge.c), the ids of a
 * baseline (baseline.c).  Include this instead of <uthash.h>: it makes uthash allocate like the
 * rest of the analyzer (ngr_xmalloc: running out of memory is one clear line, not exit(-1)).
 *
 * The tables keyed by numeric ids (trace.c's id -> index maps, the analysis' variable table) stay
 * util.h's open-addressing ngr_map, or the analysis' own layout: they are on the analysis' hot
 * path, where one allocation per entry and a pointer chase per lookup would cost more than the
 * analysis itself (analysis_int.h, "Sizes matter here").  The shim's tables (preload/) are not
 * uthash either: they are written from every thread of the traced program at once, inside its
 * hooks, so they must be lock-free and must not allocate (uthash is single-threaded, mallocs on
 * insert and rehashes the whole table as it grows). */
#ifndef NGR_AN_UTHASH_NGR_H
#define NGR_AN_UTHASH_NGR_H

#include <stdlib.h>

#include "util.h"

#define uthash_malloc(sz) ngr_xmalloc(sz)
#define uthash_free(ptr, sz) free(ptr)
#include <uthash.h>

#endif
