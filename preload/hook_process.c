/* hook_process.c — fork, the exec family and _exit.
 *
 * fork: the child writes its own new trace, linked to its parent's (ngr_fork_child); the parent
 * records FORK with the child's trace id.  exec: the trace is finished (sealed, FINISHED|EXEC)
 * before the real exec, and reopened if the exec fails.  A vfork child (or posix_spawn's) shares
 * its parent's memory: it is recognised by getpid() differing from the tracing process and left
 * alone.  _exit (os._exit, multiprocessing children) finishes the trace like exit does.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The libc/pthread symbols defined here are the shim's interface to the program. */
#pragma GCC visibility push(default)

#define REAL(name) (real_##name ? real_##name : (ngr_real_resolve(), real_##name))

/* ---- fork ----------------------------------------------------------------------------------- */

static __thread bool in_fork_hook NGR_TLS;

pid_t fork(void)
{
    if (!ngr_on() || ngr_t.depth)
        return REAL(fork)();
    int saved = errno;
    ngr_t.depth++;
    in_fork_hook = true;
    ngr_fork_prepare();
    errno = saved;
    pid_t pid = REAL(fork)();
    saved = errno;
    if (pid == 0)
        ngr_fork_child();
    else
        ngr_fork_parent(pid);
    in_fork_hook = false;
    ngr_t.depth--;
    errno = saved;
    return pid;
}

/* A fork we did not see (_Fork, a library calling the syscall's wrapper directly): the child has
 * none of the trace mappings, so it must never write.  Registered at activation. */
static void child_without_hook(void)
{
    if (!in_fork_hook)
        atomic_store(&ngr_g.state, NGR_OFF);
}

__attribute__((constructor)) static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, child_without_hook);
}

/* ---- exec ----------------------------------------------------------------------------------- */

/* True when the trace was finished for this exec (and must be reopened if it fails). */
static bool before_exec(void)
{
    int st = atomic_load(&ngr_g.state);
    if ((st != NGR_ACTIVE && st != NGR_DISABLED) || ngr_t.depth || getpid() != ngr_g.pid)
        return false; /* not tracing, or a vfork child sharing our memory */
    int saved = errno;
    ngr_t.depth++;
    ngr_trace_finish(NGR_HDR_EXEC);
    ngr_t.depth--;
    errno = saved;
    return true;
}

static void after_failed_exec(bool finished)
{
    if (!finished)
        return;
    int saved = errno;
    ngr_t.depth++;
    ngr_trace_resume_after_exec();
    ngr_t.depth--;
    errno = saved;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    bool f = before_exec();
    int rc = REAL(execve)(path, argv, envp);
    after_failed_exec(f);
    return rc;
}

int execv(const char *path, char *const argv[])
{
    bool f = before_exec();
    int rc = REAL(execv)(path, argv);
    after_failed_exec(f);
    return rc;
}

int execvp(const char *file, char *const argv[])
{
    bool f = before_exec();
    int rc = REAL(execvp)(file, argv);
    after_failed_exec(f);
    return rc;
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    bool f = before_exec();
    int rc = REAL(execvpe)(file, argv, envp);
    after_failed_exec(f);
    return rc;
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
    bool f = before_exec();
    int rc = REAL(fexecve)(fd, argv, envp);
    after_failed_exec(f);
    return rc;
}

/* execl, execlp, execle: collect the arguments and go through the hooks above. */
#define COLLECT_ARGS(first, last_arg)                                                              \
    va_list ap;                                                                                    \
    size_t n = 1;                                                                                  \
    va_start(ap, first);                                                                           \
    while (va_arg(ap, char *))                                                                     \
        n++;                                                                                       \
    va_end(ap);                                                                                    \
    char *argv[n + 1];                                                                             \
    argv[0] = (char *)(first);                                                                     \
    va_start(ap, first);                                                                           \
    for (size_t i = 1; i <= n; i++)                                                                \
        argv[i] = va_arg(ap, char *);                                                              \
    last_arg;                                                                                      \
    va_end(ap)

int execl(const char *path, const char *arg, ...)
{
    COLLECT_ARGS(arg, (void)0);
    return execv(path, argv);
}

int execlp(const char *file, const char *arg, ...)
{
    COLLECT_ARGS(arg, (void)0);
    return execvp(file, argv);
}

int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    COLLECT_ARGS(arg, envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

/* ---- _exit ---------------------------------------------------------------------------------- */

void _exit(int status)
{
    int st = atomic_load(&ngr_g.state);
    if ((st == NGR_ACTIVE || st == NGR_DISABLED) && !ngr_t.depth && getpid() == ngr_g.pid) {
        ngr_t.depth++;
        ngr_trace_finish(0);
    }
    if (REAL(_exit))
        real__exit(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

#pragma GCC visibility pop
