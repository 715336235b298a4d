/* tracegen.h — builds valid trace files in memory (common/trace_format.h) for unit tests and the
 * fuzz seed corpus.  Not used by the nogilrace command itself.
 *
 * Records are collected per stream; ngr_tg_write() lays them out in chunks of chunk_size (records
 * never straddle a chunk), seals each chunk with its CRC-32C unless told not to, and writes the
 * header.  Sync and thread records get sequence numbers from one counter in call order, as the
 * shim's writer does. */
#ifndef NGR_AN_TRACEGEN_H
#define NGR_AN_TRACEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ngr_tg;

struct ngr_tg *ngr_tg_new(uint32_t chunk_size);
void ngr_tg_free(struct ngr_tg *g);

uint32_t ngr_tg_string(struct ngr_tg *g, const char *s);  /* new id each call */
void ngr_tg_var(struct ngr_tg *g, uint32_t var_id, unsigned kind, const char *name);
void ngr_tg_key(struct ngr_tg *g, uint64_t key_id, unsigned kind, const char *repr);
uint32_t ngr_tg_loc(struct ngr_tg *g, const char *file, const char *func, uint32_t line);
/* A stack of one frame (file, func, line); returns its stack id. */
uint32_t ngr_tg_stack1(struct ngr_tg *g, const char *file, const char *func, uint32_t line);
uint32_t ngr_tg_stack(struct ngr_tg *g, const uint32_t *locs, unsigned depth);
void ngr_tg_sobj(struct ngr_tg *g, uint64_t obj, unsigned kind, const char *name);
void ngr_tg_thread_name(struct ngr_tg *g, uint32_t thread, const char *name);
void ngr_tg_process(struct ngr_tg *g, unsigned flags, const char *version, const char *cmdline);
void ngr_tg_gil(struct ngr_tg *g, bool enabled, const char *module);
void ngr_tg_note(struct ngr_tg *g, unsigned kind, const char *msg);

void ngr_tg_access(struct ngr_tg *g, uint32_t thread, unsigned kind, uint32_t var, uint64_t key,
                   uint64_t frame, uint32_t stack);
uint64_t ngr_tg_sync(struct ngr_tg *g, uint32_t thread, unsigned kind, uint64_t obj, uint32_t count,
                     uint32_t stack);
uint64_t ngr_tg_thread(struct ngr_tg *g, uint32_t thread, unsigned kind, uint32_t other, uint64_t extra);
/* Raw record into a stream (for malformed-input tests). */
void ngr_tg_raw(struct ngr_tg *g, uint32_t stream, const uint64_t *w, unsigned n);
void ngr_tg_end(struct ngr_tg *g);

struct ngr_tg_opts {
    bool unsealed;       /* leave chunks unsealed (a crashed process) */
    bool not_finished;   /* no FINISHED flag */
    uint32_t header_flags;
    uint32_t pid;
};
/* Lays the trace out; *buf is malloc'ed. */
void ngr_tg_build(struct ngr_tg *g, const struct ngr_tg_opts *o, unsigned char **buf, size_t *len);
/* Writes it to path; 0 on success. */
int ngr_tg_write(struct ngr_tg *g, const struct ngr_tg_opts *o, const char *path);

#endif
