/* main.c — the `nogilrace` command: a table of subcommands.
 *
 *   nogilrace report [options] TRACE_OR_DIR...   analyse traces, print findings (cmd_report.c)
 *   nogilrace dump [--json] TRACE_OR_DIR...      every record in replay order (dump.c)
 *   nogilrace run [options] -- COMMAND...        trace a command, then report (cmd_run.c)
 *
 * Exit status: each subcommand's own; 2 for an unknown subcommand or option. */
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "cmd_run.h"
#include "dump.h"
#include "trace_format.h"

#define NGR_VERSION "0.1.0"

static int cmd_help(int argc, char **argv);

static const struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} subcommands[] = {
    {"report", ngr_cmd_report, "[--format=text|json|sarif] [--suppressions FILE] [--exit-code=N] TRACE_OR_DIR...\n"
                               "        analyse traces and report races (exit 66 when races are found)"},
    {"run", ngr_cmd_run, "[report options] [--keep-traces DIR] -- COMMAND [ARGS...]\n"
                         "        run COMMAND traced, then report on every Python process it started"},
    {"dump", ngr_cmd_dump, "[--json] TRACE_OR_DIR...\n"
                           "        print every record in replay order with names and locksets resolved"},
    {"help", cmd_help, "\n        this text"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nogilrace SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        fprintf(f, "  %s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f,
            "\nTRACE_OR_DIR: a trace file, or a directory whose *.ngrtrace files are all read.\n"
            "\nTracing: LD_PRELOAD=libnogilrace.so python app.py (or `nogilrace run -- python app.py`).\n"
            "Environment of the traced program:\n"
            "  NOGILRACE_TRACE_DIR     where trace files go (one per process, never overwritten; default: cwd)\n"
            "  NOGILRACE_STACK_DEPTH   Python frames recorded per access (default 8)\n"
            "  NOGILRACE_NATIVE_STACKS 1: native stacks on synchronisation events (default off)\n"
            "  NOGILRACE_INCLUDE       comma-separated module globs to trace (default: all)\n"
            "  NOGILRACE_EXCLUDE       comma-separated module globs to skip (default: none)\n"
            "  NOGILRACE_HOOKS         0: pthread events only, no CPython hooks (default on)\n"
            "  NOGILRACE_DEBUG         1 or 2: diagnostics on stderr, prefixed nogilrace: (default off)\n"
            "\nExit status of report/run: the command's own when it failed (run), else 66 races found\n"
            "(--exit-code=N), else 67 a Python process ran untraced (no CPython hooks), else 68 tracing\n"
            "stopped early in a process, else 0; 2 usage errors or no readable trace.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("nogilrace %s (trace format %d.%d)\n", NGR_VERSION, NGR_TRACE_MAJOR, NGR_TRACE_MINOR);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        if (strcmp(cmd, subcommands[i].name) == 0)
            return subcommands[i].fn(argc - 1, argv + 1);
    if (cmd[0] == '-')
        fprintf(stderr, "nogilrace: unknown option %s (see nogilrace --help)\n", cmd);
    else
        fprintf(stderr, "nogilrace: unknown subcommand %s (see nogilrace --help)\n", cmd);
    return 2;
}
