/* hook_fd.c — close, close_range, closefrom, dup2, dup3: the program never takes the trace's
 * descriptor away silently.
 *
 * Daemonising code closes every descriptor (os.closerange, a close() loop, closefrom) and
 * programs redirect by dup2 onto fixed numbers.  Without these hooks the trace's descriptor went
 * too and tracing stopped at the next chunk.  Now:
 *   close(n), dup2/dup3(x, n) with n ours: the trace first moves to another number, then the
 *     call runs as asked (n is closed or holds x, as the program expects);
 *   close_range / closefrom over a range holding ours: the range is closed around it; our number
 *     stays open (no other number would be outside a range up to the highest one).
 * Return values and errno are the real calls'.  A vfork child (posix_spawn, subprocess) shares
 * our memory but not our descriptor table: it is recognised (ngr_trace_fd_is) and left alone.
 * What still takes the number (a raw syscall) is found at the next chunk: DISABLED and a note.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <unistd.h>

/* The libc symbols defined here are the shim's interface to the program. */
#pragma GCC visibility push(default)

#define REAL(name) (real_##name ? real_##name : (ngr_real_resolve(), real_##name))

int close(int fd)
{
    if (NGR_UNLIKELY(ngr_trace_fd_is(fd))) {
        int saved = errno;
        ngr_trace_fd_move_away(fd);
        errno = saved;
    }
    return REAL(close)(fd);
}

int dup2(int oldfd, int newfd)
{
    if (NGR_UNLIKELY(oldfd != newfd && ngr_trace_fd_is(newfd))) {
        int saved = errno;
        ngr_trace_fd_move_away(newfd);
        errno = saved;
    }
    return REAL(dup2)(oldfd, newfd);
}

int dup3(int oldfd, int newfd, int flags)
{
    if (NGR_UNLIKELY(oldfd != newfd && ngr_trace_fd_is(newfd))) {
        int saved = errno;
        ngr_trace_fd_move_away(newfd);
        errno = saved;
    }
    return REAL(dup3)(oldfd, newfd, flags);
}

int close_range(unsigned first, unsigned last, int flags)
{
    int ours = ngr_trace_fd();
    /* Marking close-on-exec closes nothing (ours has it already); a bad range or unknown flags
     * get the real call's answer. */
    if (NGR_LIKELY(ours < 0 || (unsigned)ours < first || (unsigned)ours > last) ||
        (flags & ~CLOSE_RANGE_UNSHARE) || !ngr_trace_fd_is(ours))
        return REAL(close_range)(first, last, flags);
    int rc = 0, err = 0;
    if ((unsigned)ours > first && REAL(close_range)(first, (unsigned)ours - 1, flags) != 0) {
        rc = -1;
        err = errno;
    }
    if ((unsigned)ours < last && REAL(close_range)((unsigned)ours + 1, last, flags) != 0 && !rc) {
        rc = -1;
        err = errno;
    }
    if (rc)
        errno = err;
    return rc;
}

void closefrom(int lowfd)
{
    int ours = ngr_trace_fd();
    if (NGR_LIKELY(ours < 0 || ours < lowfd) || !ngr_trace_fd_is(ours)) {
        REAL(closefrom)(lowfd);
        return;
    }
    int saved = errno;
    /* closefrom closes what it can and reports nothing: below ours a range, else one by one. */
    int low = lowfd < 0 ? 0 : lowfd;
    if (ours > low && (!REAL(close_range) || real_close_range((unsigned)low, (unsigned)ours - 1, 0) != 0))
        for (int fd = low; fd < ours; fd++)
            REAL(close)(fd);
    errno = saved;
    REAL(closefrom)(ours + 1);
}

#pragma GCC visibility pop
