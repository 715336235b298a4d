/* mark.c — spans of a thread (NGR_OP_MARK): the begin and end of a test's setup, call and
 * teardown, written by the pytest plugin through the hooks library's `_nogilrace.mark()`.
 *
 * A mark is an event of the calling thread's stream, like an access: one word, no sequence
 * number, so marking costs what an access costs and leaves the replay's ordering alone.  The
 * label is interned on every call (a test id is marked six times; the metadata table deduplicates
 * it): marks are rare, so the short metadata lock is not worth a cache of our own.
 */
#include "ngr_internal.h"

#include <errno.h>

void ngr_emit_mark(const char *label, size_t len, unsigned phase, bool begin)
{
    if (!ngr_on() || ngr_t.depth)
        return;
    uint32_t label_id = ngr_intern_string(label, len); /* manages depth and errno itself */
    if (!label_id)
        return;
    int saved = errno;
    ngr_t.depth++;
    struct ngr_stream *s = ngr_my_stream();
    if (s) {
        unsigned flags = (phase & NGR_MARK_PHASE_MASK) | (begin ? NGR_MARK_BEGIN : 0);
        uint64_t w[1] = {ngr_word0(NGR_OP_MARK, 1, flags, label_id)};
        ngr_stream_write(s, w, 1, 0);
    }
    ngr_t.depth--;
    errno = saved;
}
