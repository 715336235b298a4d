/* tracestat.c — count what a nogilrace trace holds, fast, without the analyzer.
 *
 *   tracestat TRACE...
 *
 * Prints one JSON object for all the files together:
 *   {"files":N,"bytes":N,"chunks":N,"events":N,"access":N,"sync":N,"thread":N,"metadata":N,
 *    "records":N,"end_records":N,"bad_crc":N,"unsealed":N,"finished":N}
 * events = access + sync + thread records; metadata = records of stream 0; records = all of them,
 * which is what the END records state (end_records, summed over the files that have one).  Sealed chunks have their CRC-32C checked; unsealed ones are read up to their first
 * zero word.  The bench uses it for "events" and "bytes per event" and to cross-check the
 * analyzer's own count.  Exit status 1 when a file is not a trace.  Built by scripts/bench.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "trace_format.h"

struct counts {
    uint64_t files, bytes, chunks, access, sync, thread, metadata, bad_crc, unsealed, finished;
    uint64_t end_records; /* sum of the END records' counts (every record, END included) */
};

static int stat_file(const char *path, struct counts *c)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    struct ngr_file_header h;
    if (p == MAP_FAILED || size < sizeof h) {
        fprintf(stderr, "tracestat: %s: too short or unreadable\n", path);
        return -1;
    }
    memcpy(&h, p, sizeof h);
    if (memcmp(h.magic, NGR_TRACE_MAGIC, 8) != 0 || h.major != NGR_TRACE_MAJOR || h.chunk_size < 4096 ||
        h.header_size < sizeof h) {
        fprintf(stderr, "tracestat: %s: not a v%d nogilrace trace\n", path, NGR_TRACE_MAJOR);
        munmap((void *)p, size);
        return -1;
    }
    c->files++;
    c->bytes += size;
    if (h.flags & NGR_HDR_FINISHED)
        c->finished++;
    for (size_t off = h.header_size; off + h.chunk_size <= size; off += h.chunk_size) {
        struct ngr_chunk_header ch;
        memcpy(&ch, p + off, sizeof ch);
        if (ch.magic != NGR_CHUNK_MAGIC)
            continue;
        c->chunks++;
        const unsigned char *data = p + off + NGR_CHUNK_HEADER_SIZE;
        size_t cap = h.chunk_size - NGR_CHUNK_HEADER_SIZE;
        size_t len = cap;
        if (ch.sealed_len) {
            len = ch.sealed_len <= cap ? ch.sealed_len : cap;
            if (ngr_crc32c(0, data, len) != ch.crc32c)
                c->bad_crc++;
        } else {
            c->unsealed++;
        }
        for (size_t i = 0; i + 8 <= len;) {
            uint64_t w0;
            memcpy(&w0, data + i, 8);
            unsigned words = ngr_w0_words(w0);
            if (w0 == 0 || words == 0)
                break;
            if (ch.stream == 0) {
                c->metadata++;
                if (ngr_w0_op(w0) == NGR_OP_END && i + 16 <= len) {
                    uint64_t n;
                    memcpy(&n, data + i + 8, 8);
                    c->end_records += n;
                }
            }
            else if (ngr_w0_op(w0) == NGR_OP_ACCESS)
                c->access++;
            else if (ngr_w0_op(w0) == NGR_OP_SYNC)
                c->sync++;
            else if (ngr_w0_op(w0) == NGR_OP_THREAD)
                c->thread++;
            i += 8u * words;
        }
    }
    munmap((void *)p, size);
    return 0;
}

int main(int argc, char **argv)
{
    struct counts c = {0};
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: tracestat TRACE...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (stat_file(argv[i], &c) != 0)
            rc = 1;
    printf("{\"files\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"chunks\":%" PRIu64 ",\"events\":%" PRIu64
           ",\"access\":%" PRIu64 ",\"sync\":%" PRIu64 ",\"thread\":%" PRIu64 ",\"metadata\":%" PRIu64
           ",\"records\":%" PRIu64 ",\"end_records\":%" PRIu64 ",\"bad_crc\":%" PRIu64 ",\"unsealed\":%" PRIu64
           ",\"finished\":%" PRIu64 "}\n",
           c.files, c.bytes, c.chunks, c.access + c.sync + c.thread, c.access, c.sync, c.thread, c.metadata,
           c.access + c.sync + c.thread + c.metadata, c.end_records, c.bad_crc, c.unsealed, c.finished);
    return rc;
}
