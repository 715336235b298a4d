/* inputs.c — see inputs.h. */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace_format.h"
#include "util.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push(struct ngr_inputs *in, char *p)
{
    NGR_GROW(in->paths, in->cap, in->n + 1);
    in->paths[in->n++] = p;
}

int ngr_inputs_add(struct ngr_inputs *in, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        push(in, ngr_xstrdup(path));
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t first = in->n, suf = strlen(NGR_TRACE_SUFFIX);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= suf || strcmp(e->d_name + len - suf, NGR_TRACE_SUFFIX) != 0)
            continue;
        char *full = ngr_xasprintf("%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
        struct stat fst;
        if (stat(full, &fst) == 0 && S_ISREG(fst.st_mode))
            push(in, full);
        else
            free(full);
    }
    closedir(d);
    if (in->n - first > 1) /* an empty directory leaves paths NULL: not for qsort (UBSan) */
        qsort(in->paths + first, in->n - first, sizeof *in->paths, cmp_str);
    return 0;
}

void ngr_inputs_free(struct ngr_inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->paths[i]);
    free(in->paths);
    memset(in, 0, sizeof *in);
}
