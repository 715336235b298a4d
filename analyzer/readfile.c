/* readfile.c — see readfile.h. */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* "4 MiB", "64 KiB": the limit as the user would write it. */
static void limit_text(char *out, size_t outlen, size_t max)
{
    if (max >= (1u << 20) && max % (1u << 20) == 0)
        snprintf(out, outlen, "%zu MiB", max >> 20);
    else
        snprintf(out, outlen, "%zu bytes", max);
}

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int ngr_read_small_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s, not a regular file", kind_of(st.st_mode));
        close(fd);
        return -1;
    }
    char lim[32];
    limit_text(lim, sizeof lim, max);
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errlen, "%lld bytes, larger than the limit of %s", (long long)st.st_size, lim);
        close(fd);
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = ngr_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) { /* it grew since fstat: follow it up to max, no further */
            if (cap > max) {
                free(b);
                close(fd);
                snprintf(err, errlen, "it grew past the limit of %s while it was read", lim);
                return -1;
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            b = ngr_xrealloc(b, cap + 1);
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            free(b);
            close(fd);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}
