/* cmd_run.c — `nogilrace run`: trace a command and everything Python it starts, then report.
 * The contract is in cmd_run.h.  The analysis itself is `nogilrace report`, run as a child of
 * this same binary (/proc/self/exe), so `run` accepts exactly the report's options and prints
 * exactly its output.
 */
#include "cmd_run.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define NGR_PRELOAD_NAME "libnogilrace.so"
#define NGR_TRACE_SUFFIX_RUN ".ngrtrace"

/* ---- signals: the child we wait for gets SIGTERM/SIGHUP forwarded ------------------------- */

static volatile sig_atomic_t g_forward_pid;

static void on_forwarded_signal(int sig)
{
    int saved = errno;
    pid_t pid = (pid_t)g_forward_pid;
    if (pid > 0)
        kill(pid, sig);
    errno = saved;
}

struct saved_signals {
    struct sigaction intr, quit, term, hup;
};

/* SIGINT/SIGQUIT from the terminal go to the whole foreground process group, the command
 * included: we ignore them so that we survive to analyse.  SIGTERM/SIGHUP are usually sent to us
 * alone (kill, a closing terminal, a CI timeout): pass them on to the command. */
static void install_signals(struct saved_signals *old)
{
    struct sigaction ign = {0}, fwd = {0};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    fwd.sa_handler = on_forwarded_signal;
    sigemptyset(&fwd.sa_mask);
    fwd.sa_flags = SA_RESTART;
    sigaction(SIGINT, &ign, &old->intr);
    sigaction(SIGQUIT, &ign, &old->quit);
    sigaction(SIGTERM, &fwd, &old->term);
    sigaction(SIGHUP, &fwd, &old->hup);
}

/* In a child before exec: the dispositions the user gave us (a handled signal resets to default
 * on exec by itself, an ignored one would stay ignored). */
static void restore_signals(const struct saved_signals *old)
{
    sigaction(SIGINT, &old->intr, NULL);
    sigaction(SIGQUIT, &old->quit, NULL);
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGHUP, &old->hup, NULL);
}

/* Waits for pid, forwarding signals to it meanwhile; returns its status as a shell reports it. */
static int wait_status(pid_t pid)
{
    int st;
    g_forward_pid = pid;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            g_forward_pid = 0;
            fprintf(stderr, "nogilrace: run: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    g_forward_pid = 0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

static pid_t spawn(char *const argv[], const struct saved_signals *sigs, bool search_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        restore_signals(sigs);
        if (search_path)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        int e = errno;
        fprintf(stderr, "nogilrace: run: cannot execute %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    if (pid < 0)
        fprintf(stderr, "nogilrace: run: fork: %s\n", strerror(errno));
    return pid;
}

/* ---- trace directory ---------------------------------------------------------------------- */

static bool is_trace_name(const char *name)
{
    size_t n = strlen(name), s = strlen(NGR_TRACE_SUFFIX_RUN);
    return n > s && strcmp(name + n - s, NGR_TRACE_SUFFIX_RUN) == 0;
}

/* Names of the trace files in dir, as a NULL-terminated array (empty on error). */
static char **list_traces(const char *dir, size_t *count)
{
    size_t n = 0, cap = 16;
    char **names = calloc(cap, sizeof *names);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (names && d && (e = readdir(d))) {
        if (!is_trace_name(e->d_name))
            continue;
        if (n + 2 > cap) {
            char **bigger = realloc(names, (cap *= 2) * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        names[n++] = strdup(e->d_name);
        names[n] = NULL;
    }
    if (d)
        closedir(d);
    *count = n;
    return names;
}

static bool in_list(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) < 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Removes the temporary directory we created: its trace files, then the directory.  Anything
 * else a program left there is not ours to delete, so the directory then stays (with a note). */
static void remove_temp_dir(const char *dir)
{
    size_t n;
    char **names = list_traces(dir, &n);
    char path[PATH_MAX];
    for (size_t i = 0; i < n; i++)
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path)
            unlink(path);
    free_list(names, n);
    if (rmdir(dir) < 0)
        fprintf(stderr, "nogilrace: run: left %s in place: %s\n", dir, strerror(errno));
}

/* ---- the command --------------------------------------------------------------------------- */

void ngr_cmd_run_usage(void)
{
    fprintf(stderr,
            "usage: nogilrace run [report options] [--keep-traces DIR] -- COMMAND [ARGS...]\n"
            "  Runs COMMAND with the tracer preloaded (every Python process it starts is traced),\n"
            "  then prints `nogilrace report` for all of their traces.  Report options are those\n"
            "  of `nogilrace report` (--format=text|json|sarif, --suppressions FILE, ...).\n"
            "  --keep-traces DIR   write the traces to DIR (created if needed) and keep them;\n"
            "                      existing files there are left alone and not analysed\n"
            "  Exit status: COMMAND's if non-zero (128+N if killed by signal N), else 66 when\n"
            "  races were found (or the report's --exit-code), else 67 when a Python process ran\n"
            "  untraced, else 68 when tracing stopped early in a process, else 0.\n");
}

struct run_args {
    char **report_opts; /* NULL-terminated, report options in order */
    size_t n_opts;
    const char *keep_dir;
    char **command;     /* points into argv */
};

/* Returns 0, 1 for --help, 2 for a usage error. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
    a->report_opts = calloc((size_t)argc + 1, sizeof *a->report_opts);
    if (!a->report_opts)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--") == 0) {
            a->command = argv + i + 1;
            break;
        } else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            return 1;
        } else if (strcmp(s, "--keep-traces") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nogilrace: run: --keep-traces needs a directory\n");
                return 2;
            }
            a->keep_dir = argv[++i];
        } else if (strncmp(s, "--keep-traces=", 14) == 0) {
            a->keep_dir = s + 14;
        } else {
            a->report_opts[a->n_opts++] = argv[i];
        }
    }
    if (!a->command || !a->command[0]) {
        fprintf(stderr, "nogilrace: run: no command given after `--`\n");
        return 2;
    }
    if (a->keep_dir && !a->keep_dir[0]) {
        fprintf(stderr, "nogilrace: run: --keep-traces needs a directory\n");
        return 2;
    }
    return 0;
}

/* The directory holding the running nogilrace binary, where libnogilrace.so is built too. */
static int self_paths(char *exe, char *lib, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", exe, size - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    const char *slash = strrchr(exe, '/');
    int dirlen = slash ? (int)(slash - exe) : 0;
    if (snprintf(lib, size, "%.*s/%s", dirlen, exe, NGR_PRELOAD_NAME) >= (int)size)
        return -1;
    return 0;
}

static int setup_env(const char *lib, const char *trace_dir)
{
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(lib) + (old ? strlen(old) + 1 : 0) + 1;
    char *preload = malloc(len);
    if (!preload)
        return -1;
    /* Ours first, the user's kept after it (ld.so splits the list on ':' and spaces). */
    if (old && old[0])
        snprintf(preload, len, "%s:%s", lib, old);
    else
        snprintf(preload, len, "%s", lib);
    int rc = setenv("LD_PRELOAD", preload, 1) | setenv("NOGILRACE_TRACE_DIR", trace_dir, 1);
    free(preload);
    return rc;
}

static int analyse(const char *exe, const struct run_args *a, const char *dir, char **files,
                   size_t n_files, const struct saved_signals *sigs)
{
    size_t n = 0;
    char **argv = calloc(a->n_opts + n_files + 4, sizeof *argv);
    char **paths = calloc(n_files + 1, sizeof *paths);
    if (!argv || !paths) {
        free(argv);
        free(paths);
        return 1;
    }
    argv[n++] = (char *)exe;
    argv[n++] = "report";
    for (size_t i = 0; i < a->n_opts; i++)
        argv[n++] = a->report_opts[i];
    if (!files) {
        argv[n++] = (char *)dir;
    } else {
        for (size_t i = 0; i < n_files; i++) {
            size_t len = strlen(dir) + strlen(files[i]) + 2;
            if ((paths[i] = malloc(len)))
                snprintf(paths[i], len, "%s/%s", dir, files[i]);
            if (paths[i])
                argv[n++] = paths[i];
        }
    }
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = spawn(argv, sigs, false);
    int status = pid > 0 ? wait_status(pid) : 1;
    for (size_t i = 0; i < n_files; i++)
        free(paths[i]);
    free(paths);
    free(argv);
    return status;
}

int ngr_cmd_run(int argc, char **argv)
{
    struct run_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        ngr_cmd_run_usage();
        free(a.report_opts);
        return rc == 1 ? 0 : 2;
    }

    char exe[PATH_MAX], lib[PATH_MAX], dir[PATH_MAX];
    if (self_paths(exe, lib, sizeof exe) < 0 || access(lib, R_OK) < 0) {
        fprintf(stderr, "nogilrace: run: %s not found next to the nogilrace binary\n",
                NGR_PRELOAD_NAME);
        free(a.report_opts);
        return 2;
    }

    /* Where the traces go: a fresh private directory, or the user's (made absolute, because the
     * command may chdir before Python starts). */
    char **before = NULL;
    size_t n_before = 0;
    if (a.keep_dir) {
        if (mkdir_p(a.keep_dir) < 0 || !realpath(a.keep_dir, dir)) {
            fprintf(stderr, "nogilrace: run: cannot use %s for traces: %s\n", a.keep_dir,
                    strerror(errno));
            free(a.report_opts);
            return 2;
        }
        before = list_traces(dir, &n_before);
    } else {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !tmp[0])
            tmp = "/tmp";
        snprintf(dir, sizeof dir, "%s/nogilrace-run.XXXXXX", tmp);
        char *made = mkdtemp(dir);
        char real[PATH_MAX];
        if (!made || !realpath(made, real)) {
            fprintf(stderr, "nogilrace: run: cannot create a trace directory in %s: %s\n", tmp,
                    strerror(errno));
            free(a.report_opts);
            return 2;
        }
        snprintf(dir, sizeof dir, "%s", real);
    }
    if (setup_env(lib, dir) < 0) {
        fprintf(stderr, "nogilrace: run: cannot set the environment: %s\n", strerror(errno));
        free(a.report_opts);
        return 2;
    }

    struct saved_signals sigs;
    install_signals(&sigs);
    fflush(NULL);
    pid_t pid = spawn(a.command, &sigs, true);
    int cmd_status = pid > 0 ? wait_status(pid) : 127;
    /* The report is for the user, not traced itself. */
    unsetenv("LD_PRELOAD");
    unsetenv("NOGILRACE_TRACE_DIR");

    size_t n_now;
    char **now = list_traces(dir, &n_now);
    char **mine = calloc(n_now + 1, sizeof *mine);
    size_t n_mine = 0;
    for (size_t i = 0; mine && i < n_now; i++)
        if (!in_list(before, n_before, now[i]))
            mine[n_mine++] = now[i];

    int report_status = 0;
    if (n_mine == 0 && cmd_status != 126 && cmd_status != 127) {
        fprintf(stderr, "nogilrace: run: no trace was written: `%s` started no traced Python "
                        "process (or cleared LD_PRELOAD)\n", a.command[0]);
    } else if (n_mine > 0) {
        report_status = analyse(exe, &a, dir, a.keep_dir ? mine : NULL, n_mine, &sigs);
    }

    if (a.keep_dir && n_mine > 0)
        fprintf(stderr, "nogilrace: run: %zu trace%s kept in %s\n", n_mine, n_mine == 1 ? "" : "s",
                dir);
    free(mine);
    free_list(now, n_now);
    free_list(before, n_before);
    free(a.report_opts);
    if (!a.keep_dir)
        remove_temp_dir(dir);
    return cmd_status != 0 ? cmd_status : report_status;
}
