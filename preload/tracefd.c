/* tracefd.c — the trace's descriptor number, shared between the writer and the program.
 *
 * The writer needs the descriptor only to grow the file and map chunks (chunk_take, chunk_drop,
 * fork); records go through the mappings.  The program may close our number or put another file
 * there (close, dup2, dup3: hook_fd.c): then the trace first moves to another number
 * (ngr_trace_fd_move_away) and the program's call proceeds on a number that is no longer ours.
 * A writer that read the old number must not use it after the program's call, or it would
 * extend or map the program's file: so writers announce themselves (ngr_fd_enter/leave, a count)
 * and a mover waits until none is inside before it changes the number; writers arriving
 * meanwhile wait for the move (a dup and a store: microseconds).  Both are rare events: a new
 * chunk every 64 KiB of records, a move when the program closes our number.
 *
 * Signals: a handler may write records (signals.c) and so take a chunk.  A thread already
 * inside, or the mover itself, goes on without waiting (the number it would read is still ours
 * at that instant: the mover stores the new number before the program's call closes the old).
 */
#include "ngr_internal.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

static _Atomic int users;   /* writers using ngr_g.fd now */
static _Atomic int moving;  /* a mover is waiting for users to drain, or changing the number */

void ngr_fd_enter(void)
{
    if (ngr_t.fd_inside || ngr_t.fd_mover) {
        ngr_t.fd_inside++;
        atomic_fetch_add(&users, 1);
        return;
    }
    for (;;) {
        atomic_fetch_add(&users, 1); /* seq_cst: the mover sees it, or we see `moving` */
        if (!atomic_load(&moving))
            break;
        atomic_fetch_sub(&users, 1);
        while (atomic_load(&moving))
            sched_yield();
    }
    ngr_t.fd_inside++;
}

void ngr_fd_leave(void)
{
    ngr_t.fd_inside--;
    atomic_fetch_sub(&users, 1);
}

int ngr_trace_fd(void)
{
    return __atomic_load_n(&ngr_g.fd, __ATOMIC_RELAXED);
}

bool ngr_trace_fd_is(int fd)
{
    int st = atomic_load_explicit(&ngr_g.state, memory_order_relaxed);
    return fd >= 0 && fd == ngr_trace_fd() && (st == NGR_ACTIVE || st == NGR_DISABLED) &&
           !ngr_t.depth && !ngr_t.fd_inside && getpid() == ngr_g.pid;
}

void ngr_trace_fd_move_away(int fd)
{
    int idle = 0;
    while (!atomic_compare_exchange_weak(&moving, &idle, 1)) {
        idle = 0;
        sched_yield(); /* another thread moves it: then it is no longer at fd */
    }
    ngr_t.fd_mover = true;
    while (atomic_load(&users))
        sched_yield();
    if (fd == ngr_g.fd) {
        /* Upwards first: a program closing every number in a loop moves us one step ahead of
         * it, never back into the part it already closed. */
        int to = fd + 1 > NGR_TRACE_FD_MIN ? fd + 1 : NGR_TRACE_FD_MIN;
        int nfd = fcntl(fd, F_DUPFD_CLOEXEC, to);
        if (nfd < 0)
            nfd = fcntl(fd, F_DUPFD_CLOEXEC, NGR_TRACE_FD_MIN);
        if (nfd < 0)
            nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        /* No number left: the program's call takes the trace's descriptor, and the next chunk
         * finds it gone (DISABLED and a note, writer.c). */
        if (nfd >= 0)
            __atomic_store_n(&ngr_g.fd, nfd, __ATOMIC_RELEASE);
    }
    ngr_t.fd_mover = false;
    atomic_store(&moving, 0);
}

void ngr_fd_fork_child(void)
{
    /* The other threads are gone, and with them their announcements. */
    atomic_store(&users, ngr_t.fd_inside);
    atomic_store(&moving, 0);
}
