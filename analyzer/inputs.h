/* inputs.h — the trace files named on the command line: files as given, directories expanded to
 * every *.ngrtrace directly inside them, sorted by name (so reports are the same run to run). */
#ifndef NGR_AN_INPUTS_H
#define NGR_AN_INPUTS_H

#include <stddef.h>

struct ngr_inputs {
    char **paths;
    size_t n, cap;
};

/* Adds path (a file, or a directory's traces).  0 on success; -1 with a one-line message in err
 * when path cannot be read.  A directory without traces adds nothing (the caller decides). */
int ngr_inputs_add(struct ngr_inputs *in, const char *path, char *err, size_t errlen);
void ngr_inputs_free(struct ngr_inputs *in);

#endif
