/* cmd_run.h — `nogilrace run [report options] [--keep-traces DIR] -- COMMAND [ARGS...]`.
 *
 * Runs COMMAND with libnogilrace.so (found next to the nogilrace binary) prepended to LD_PRELOAD
 * and NOGILRACE_TRACE_DIR set to a fresh directory, so every Python process it starts —
 * subprocesses and multiprocessing children inherit both — writes its trace there.  When COMMAND
 * ends, `nogilrace report` analyses all of those traces with the report options given before
 * `--`, and the temporary directory is removed (with --keep-traces DIR the traces are written to
 * DIR instead, kept, and only this run's files are analysed).
 *
 * COMMAND stays in our process group, so Ctrl-C from the terminal reaches it directly; `run`
 * ignores SIGINT/SIGQUIT itself and forwards SIGTERM/SIGHUP to it, so an interrupted or killed
 * command still gets its report.
 *
 * Exit status: COMMAND's own status when non-zero (128+N when killed by signal N), else the
 * report's (66 when races were found, or --exit-code's value; 67 when a Python process ran
 * untraced; 68 when tracing stopped early in one; 0 when none of these), 2 on usage errors.
 */
#ifndef NGR_CMD_RUN_H
#define NGR_CMD_RUN_H

/* argv[0] is "run"; argv[argc] is NULL.  Returns the process exit status. */
int ngr_cmd_run(int argc, char **argv);

/* Prints the usage of `run` to stderr (for `nogilrace --help`). */
void ngr_cmd_run_usage(void);

#endif
