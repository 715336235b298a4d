/* readfile.h — reading a whole small file the analyzer did not write and need not trust: a
 * suppressions file (report --suppressions FILE), a source file named in a trace (for
 * `# nogilrace: ignore`).  One reader for both, so both get the same limits:
 *   - opened without blocking and without becoming a controlling terminal: a FIFO named by
 *     mistake or by a hostile trace never hangs the analyzer;
 *   - a regular file only: not /dev/zero (endless), /dev/urandom, a terminal, a directory;
 *   - at most max bytes, checked on the size first and again while reading (a file that grows
 *     under the reader is cut off, not followed).
 * Traces themselves are mapped, not read (trace.h), and have their own checks. */
#ifndef NGR_AN_READFILE_H
#define NGR_AN_READFILE_H

#include <stddef.h>

/* 0 with the contents in *buf (malloc'ed, NUL-terminated, *len bytes before the NUL); -1 with one
 * line in err saying why ("No such file or directory", "a FIFO, not a regular file", "larger
 * than 4 MiB"), without the path. */
int ngr_read_small_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen);

#endif
