/* preload_fixture.h — for the preload's unit tests: a trace opened in a fresh directory with this
 * process as thread 1, and a minimal reader of what it wrote (records of one stream, chunk by
 * chunk in order, CRCs checked). */
#ifndef NGR_TEST_PRELOAD_FIXTURE_H
#define NGR_TEST_PRELOAD_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "ngr_internal.h"

/* ---- a minimal reader ----------------------------------------------------------------------- */

struct file {
    unsigned char *data;
    size_t len;
};

static struct file slurp(const char *path)
{
    struct file f = {0};
    FILE *fp = fopen(path, "rb");
    cr_assert(fp, "open %s", path);
    fseek(fp, 0, SEEK_END);
    f.len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.data = malloc(f.len ? f.len : 1);
    cr_assert_eq(fread(f.data, 1, f.len, fp), f.len);
    fclose(fp);
    return f;
}

static const struct ngr_file_header *hdr_of(const struct file *f)
{
    cr_assert_geq(f->len, sizeof(struct ngr_file_header));
    return (const struct ngr_file_header *)f->data;
}

/* Calls fn for every record of stream `stream`, chunks in stream_seq order.  Checks chunk
 * integrity on the way and returns the number of chunks of that stream. */
typedef void (*rec_fn)(const uint64_t *w, void *ctx);
static unsigned walk_stream(const struct file *f, uint32_t stream, rec_fn fn, void *ctx,
                            unsigned *sealed_out)
{
    const struct ngr_file_header *h = hdr_of(f);
    size_t n = (f->len - h->header_size) / h->chunk_size;
    unsigned found = 0, sealed = 0;
    for (uint32_t want = 0;; want++) {
        const struct ngr_chunk_header *ch = NULL;
        for (size_t i = 0; i < n; i++) {
            const struct ngr_chunk_header *c =
                (const void *)(f->data + h->header_size + i * h->chunk_size);
            if (c->magic == NGR_CHUNK_MAGIC && c->stream == stream && c->stream_seq == want)
                ch = c;
        }
        if (!ch)
            break;
        found++;
        const unsigned char *payload = (const unsigned char *)ch + NGR_CHUNK_HEADER_SIZE;
        size_t limit = h->chunk_size - NGR_CHUNK_HEADER_SIZE;
        if (ch->sealed_len) {
            sealed++;
            cr_assert_eq(ngr_crc32c(0, payload, ch->sealed_len), ch->crc32c,
                         "CRC of stream %u chunk %u", stream, want);
            limit = ch->sealed_len;
        }
        size_t off = 0;
        while (off + 8 <= limit) {
            const uint64_t *w = (const uint64_t *)(payload + off);
            if (!w[0])
                break;
            unsigned words = ngr_w0_words(w[0]);
            cr_assert(words > 0 && off + words * 8 <= limit);
            fn(w, ctx);
            off += words * 8;
        }
    }
    if (sealed_out)
        *sealed_out = sealed;
    return found;
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static char dir[] = "/tmp/ngr-unit-XXXXXX";

static void start(void)
{
    cr_assert(mkdtemp(dir));
    struct ngr_trace_params p = {.dir = dir};
    cr_assert_eq(ngr_trace_open(&p), 0);
    ngr_thread_begin(ngr_new_thread_num(), 0);
}

static void stop(void)
{
    unlink(ngr_g.path);
    rmdir(dir);
}

#endif
