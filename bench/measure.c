/* measure.c — run a command, report its wall time and peak RSS.
 *
 *   measure OUTFILE COMMAND [ARGS...]
 *
 * Writes "<exit status> <wall seconds> <peak RSS KiB> <CPU seconds>" to OUTFILE once COMMAND ends
 * (CPU = user + system time, which another process's load on a shared machine does not inflate
 * the way it inflates wall time); the exit
 * status is the command's, or 128+N when signal N killed it.  Exists because the peak RSS a
 * process reports (ru_maxrss) includes the memory of whoever forked it: Linux folds the old
 * address space's high-water mark into it at exec.  Forked from this small program, the command's
 * figure is its own, not the Python orchestrator's.  Built by scripts/bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: measure OUTFILE COMMAND [ARGS...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "measure: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("measure: wait4");
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *f = fopen(argv[1], "w");
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    if (!f || fprintf(f, "%d %.6f %ld %.6f\n", rc, wall, ru.ru_maxrss, cpu) < 0 || fclose(f) != 0) {
        perror("measure: write result");
        return 2;
    }
    return rc;
}
