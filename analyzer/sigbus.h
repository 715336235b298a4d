/* sigbus.h — surviving a trace file that shrinks while it is mapped.
 *
 * The reader maps each trace (trace.h).  When another process truncates the file meanwhile (a
 * trace being rewritten, a cleanup job, a full disk reclaimed), touching a page past the new end
 * raises SIGBUS, which would kill the analyzer with status 135 in the middle of a report.
 *
 * Why a handler and not pread or re-checking the size: the replay reads records straight from the
 * mapping on its hot path, and names point into it until the report is written; a size check
 * before each read would still race with the truncation, and copying every chunk through pread
 * would add a copy per event.  So the reader registers each mapping here; a SIGBUS inside a
 * registered mapping puts one private page of filler over the lost page (the read is retried and
 * succeeds) and marks the mapping as damaged.  The filler decodes as one-word records of an
 * unknown opcode, which every walk over records skips by their size, so nothing loops and nothing
 * reads out of bounds; the reader and the analysis then ask ngr_sigbus_hit() at their checkpoints
 * and give up on the trace with a clear line.  A SIGBUS anywhere else is not ours: the default
 * action is restored and the fault repeats, so the process dies of it as it would have.
 *
 * Not thread-safe: the analyzer reads traces from one thread. */
#ifndef NGR_AN_SIGBUS_H
#define NGR_AN_SIGBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The word the filler page is made of: opcode 0xff (no such record), size 1 word. */
#define NGR_SIGBUS_FILLER_WORD ((uint64_t)0xff | (uint64_t)1 << 8)

/* Watches [base, base + size) from now on (installs the handler on first use).  A few mappings
 * may be watched at once (NGR_SIGBUS_MAX); beyond that the mapping is not watched and a
 * truncation kills the process as before.  False then. */
#define NGR_SIGBUS_MAX 64
bool ngr_sigbus_watch(const void *base, size_t size);
/* Stops watching the mapping at base (before munmap). */
void ngr_sigbus_unwatch(const void *base);
/* True once a page of the mapping at base was found past the end of its file. */
bool ngr_sigbus_hit(const void *base);
/* The offset in the mapping of the first byte found missing (0 before any). */
size_t ngr_sigbus_first_fault(const void *base);

#endif
