/* trace.h — reading one nogilrace trace file (common/trace_format.h) as untrusted input.
 *
 * ngr_trace_open() maps the file, checks the header, indexes every chunk by stream (ordered by
 * stream_seq), checks each chunk's magic, seal and CRC-32C and the framing of its records, and
 * loads the metadata stream (stream 0) into id -> record tables.  After it returns 0, every record
 * of every event stream lies inside the mapping with a size that fits its chunk, so the replay
 * (replay.h) reads them without further bounds checks.  With NGR_TRACE_DEFER_CHECKS (what
 * `report` uses) the CRC and framing of sealed event chunks wait until the replay enters each
 * chunk, which then checks it before reading a record of it: the file is read once, not twice.
 *
 * Problems are of three classes:
 *   - no header (a file that is empty, or zeros where the header goes: the process died between
 *     creating its trace and writing the header): open fails with no_header set, and the caller
 *     treats it as a warning about a process that did nothing traced;
 *   - corrupt input (bad magic, wrong major, a chunk or record that cannot be right, a FIFO or
 *     anything but a regular file, a file that shrank while it was read): open fails with one
 *     line "FILE: byte OFFSET: what" in err;
 *   - incomplete input (a truncated file, an unsealed chunk, a missing chunk, a sparse file's
 *     holes): the data is kept up to the last complete record and a warning line is added to
 *     warnings[].
 * Only the file's data is scanned: chunks whose header lies in a hole of a sparse file are
 * skipped without reading them (SEEK_DATA), so the work is bounded by what the file holds, not by
 * its size.  A file truncated by someone else while it is mapped does not kill the reader
 * (sigbus.h): open, the replay and the analysis check ngr_sigbus_hit() and give up on the trace.
 * Memory: the index and the tables grow with chunks, strings, variables, stacks; events are read
 * straight from the mapping.
 */
#ifndef NGR_AN_TRACE_H
#define NGR_AN_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_format.h"
#include "util.h"

struct ngr_chunk_ref {
    uint64_t data;       /* file offset of the first record */
    uint64_t data_end;   /* file offset after the last complete record */
    uint32_t stream_seq;
    bool deferred;       /* sealed, CRC and records not checked yet: ngr_trace_check_chunk() */
};

struct ngr_stream_idx {
    uint32_t stream;     /* stream number (0 = metadata, N = thread N) */
    struct ngr_chunk_ref *chunks;
    size_t nchunks, cap;
};

struct ngr_str { const char *p; uint32_t len; };
struct ngr_var { uint32_t name, parent; unsigned kind; };
struct ngr_key { uint32_t repr; unsigned kind; };
struct ngr_loc { uint32_t file, func, line; };
struct ngr_stack { const unsigned char *locs; unsigned depth; }; /* ids point into the mapping */
static inline uint32_t ngr_stack_at(const struct ngr_stack *s, unsigned i)
{
    uint32_t v;
    __builtin_memcpy(&v, s->locs + 4u * i, 4);
    return v;
}
struct ngr_sobj { uint32_t name; unsigned kind; };

#define NGR_MAX_WARNINGS 8

struct ngr_trace {
    char *path;
    const unsigned char *base;
    size_t size;
    bool mapped;                    /* base was mmap()ed by ngr_trace_open */
    bool watched;                   /* ... and is watched for SIGBUS (sigbus.h) */
    bool no_header;                 /* open failed: no header, the process died at start */
    struct ngr_file_header hdr;
    uint64_t header_size, chunk_size;

    struct ngr_stream_idx *streams; /* sorted by stream number; streams[0] may be stream 0 */
    size_t nstreams, streams_cap;
    struct ngr_stream_idx *meta;    /* stream 0, or NULL */

    /* metadata tables: map id -> index into the arrays */
    struct ngr_map str_map, var_map, key_map, loc_map, stack_map, nstack_map, sobj_map, tname_map;
    struct ngr_str *strs; size_t nstrs, strs_cap;
    struct ngr_var *vars; size_t nvars, vars_cap;
    struct ngr_key *keys; size_t nkeys, keys_cap;
    struct ngr_loc *locs; size_t nlocs, locs_cap;
    struct ngr_stack *stacks; size_t nstacks, stacks_cap;
    struct ngr_sobj *sobjs; size_t nsobjs, sobjs_cap;
    uint32_t *tnames; size_t ntnames, tnames_cap;      /* string ids */
    bool have_process;
    unsigned process_flags;
    uint32_t version_str, cmdline_str;
    bool have_end;
    uint64_t end_records, end_last_seq;
    uint64_t meta_records;

    uint64_t nslots;                /* chunks the file has room for */
    uint64_t *released;             /* a mapping's chunks handed back, one bit each (or NULL) */

    bool incomplete;                /* crash/kill: unsealed chunks or no FINISHED flag */
    uint64_t read_upto;             /* file offset after the last record read */

    char *warnings[NGR_MAX_WARNINGS];
    size_t nwarnings, warnings_dropped;
};

/* True by default.  The fuzz target turns it off so that mutated sealed chunks reach the record
 * checks instead of all failing on their CRC; everything else is checked either way. */
extern bool ngr_trace_check_crc;

/* Opens and checks path.  0 on success; -1 with a one-line message in err (no trailing newline)
 * when the file cannot be read or is corrupt.  Also accepts an in-memory buffer: see
 * ngr_trace_open_mem(). */
int ngr_trace_open(struct ngr_trace *t, const char *path, char *err, size_t errlen);
/* Same on a buffer the caller keeps alive until ngr_trace_close (used by the fuzz target). */
int ngr_trace_open_mem(struct ngr_trace *t, const char *name, const void *buf, size_t size,
                       char *err, size_t errlen);
/* With NGR_TRACE_DEFER_CHECKS, the CRC and record framing of sealed event chunks are left to
 * whoever reads them (the replay calls ngr_trace_check_chunk() as it enters each chunk): a
 * report reads every chunk once instead of twice.  Headers, metadata, unsealed and truncated
 * chunks are still checked here. */
#define NGR_TRACE_DEFER_CHECKS 1u
int ngr_trace_open_ex(struct ngr_trace *t, const char *path, unsigned flags, char *err, size_t errlen);
int ngr_trace_open_mem_ex(struct ngr_trace *t, const char *name, const void *buf, size_t size, unsigned flags,
                          char *err, size_t errlen);
/* 0, or -1 with "FILE: byte N: the file shrank ..." in err once the mapped file was found
 * truncated under the reader (sigbus.h): whatever was read since may be filler, not data. */
int ngr_trace_check_shrunk(const struct ngr_trace *t, char *err, size_t errlen);
/* Hands a chunk's pages back when the trace is a file mapping (read again, they come back from
 * the page cache); nothing for a caller's buffer. */
void ngr_trace_release_chunk(const struct ngr_trace *t, const struct ngr_chunk_ref *ch);
/* The deferred checks of one chunk: 0, or -1 with the same one-line message open would give. */
int ngr_trace_check_chunk(const struct ngr_trace *t, const struct ngr_chunk_ref *ch, char *err, size_t errlen);
void ngr_trace_close(struct ngr_trace *t);

/* ---- name lookups: never NULL, unknown ids give a placeholder ------------------------------ */

/* The string with id, or NULL when there is none. */
const struct ngr_str *ngr_trace_str_maybe(const struct ngr_trace *t, uint32_t id);
/* String id as a fresh C string ("" when unknown). */
char *ngr_trace_strdup(const struct ngr_trace *t, uint32_t id);
const struct ngr_var *ngr_trace_var_maybe(const struct ngr_trace *t, uint32_t var_id);
const struct ngr_key *ngr_trace_key_maybe(const struct ngr_trace *t, uint64_t key_id);
const struct ngr_loc *ngr_trace_loc_maybe(const struct ngr_trace *t, uint32_t loc_id);
const struct ngr_stack *ngr_trace_stack_maybe(const struct ngr_trace *t, uint32_t stack_id);
const struct ngr_stack *ngr_trace_nstack_maybe(const struct ngr_trace *t, uint32_t stack_id);
const struct ngr_sobj *ngr_trace_sobj_maybe(const struct ngr_trace *t, uint64_t obj);

/* Fresh strings for display. */
char *ngr_trace_var_name(const struct ngr_trace *t, uint32_t var_id);
char *ngr_trace_key_repr(const struct ngr_trace *t, uint64_t key_id); /* NULL for key 0 */
char *ngr_trace_obj_name(const struct ngr_trace *t, uint64_t obj);
char *ngr_trace_thread_name(const struct ngr_trace *t, uint32_t thread);

const char *ngr_var_kind_name(unsigned kind);
const char *ngr_sobj_kind_name(unsigned kind);
const char *ngr_access_kind_name(unsigned kind);
const char *ngr_sync_kind_name(unsigned kind);
const char *ngr_thread_kind_name(unsigned kind);

/* Word i of the record at file offset off (no checks: the offset came from the index). */
static inline uint64_t ngr_trace_word(const struct ngr_trace *t, uint64_t off, unsigned i)
{
    uint64_t w;
    __builtin_memcpy(&w, t->base + off + 8u * i, 8);
    return w;
}

#endif
