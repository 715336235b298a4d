#!/usr/bin/env bash
# t_shim_create.sh — a trace never shows under its final name without its complete header.
#
# A second preloaded library (killer.so, built here) SIGKILLs the traced process at one step of
# trace creation: the first fallocate() of a file in the trace directory (space for the header),
# the first shared mmap() of one (the header's mapping), the call that gives the file its name
# (linkat / renameat2 / link / rename), or the second fallocate() (the first chunk, after the
# name).  It can also refuse O_TMPFILE and RENAME_NOREPLACE, which some filesystems lack, so that
# each of the writer's ways to create a file is killed at each step.  Whatever is left in the
# directory: every *.ngrtrace file has the magic and the header of the killed process, and
# anything else is a temporary named .nogilrace-<pid>-<16 hex>.tmp that `nogilrace report`
# ignores (docs/trace-format.md).
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$NGR_TMP" || exit 1
PY=$NGR_PYTHON

cat >killer.c <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
/* NGR_TEST_KILL_AT=fallocate:N|mmap:N|name:N  NGR_TEST_KILL_DIR=DIR  NGR_TEST_NO_TMPFILE=1
 * NGR_TEST_NO_NOREPLACE=1.  Pass-through goes to the system calls directly (no dlsym: mmap is
 * called before any symbol lookup could be made). */
static int counts[3];
static void maybe_kill(int which, const char *name)
{
    const char *at = getenv("NGR_TEST_KILL_AT");
    size_t n = strlen(name);
    if (at && strncmp(at, name, n) == 0 && at[n] == ':' && ++counts[which] == atoi(at + n + 1))
        kill(getpid(), SIGKILL);
}
static int in_dir(int fd)
{
    const char *dir = getenv("NGR_TEST_KILL_DIR");
    char p[64], t[4096];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = dir && fd >= 0 ? readlink(p, t, sizeof t - 1) : -1;
    if (n <= 0)
        return 0;
    t[n] = 0;
    size_t d = strlen(dir);
    return strncmp(t, dir, d) == 0 && t[d] == '/';
}
int fallocate(int fd, int mode, off_t off, off_t len)
{
    if (in_dir(fd))
        maybe_kill(0, "fallocate");
    return (int)syscall(SYS_fallocate, fd, mode, off, len);
}
int fallocate64(int fd, int mode, off_t off, off_t len) { return fallocate(fd, mode, off, len); }
void *mmap(void *a, size_t l, int prot, int flags, int fd, off_t off)
{
    if (fd >= 0 && (flags & MAP_SHARED) && in_dir(fd))
        maybe_kill(1, "mmap");
    return (void *)syscall(SYS_mmap, a, l, prot, flags, fd, off);
}
void *mmap64(void *a, size_t l, int prot, int flags, int fd, off_t off) { return mmap(a, l, prot, flags, fd, off); }
int openat(int dfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    if ((flags & __O_TMPFILE) == __O_TMPFILE && getenv("NGR_TEST_NO_TMPFILE")) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return (int)syscall(SYS_openat, dfd, path, flags, mode);
}
int openat64(int dfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return openat(dfd, path, flags, mode);
}
int linkat(int od, const char *o, int nd, const char *n, int fl)
{
    maybe_kill(2, "name");
    return (int)syscall(SYS_linkat, od, o, nd, n, fl);
}
int link(const char *o, const char *n) { return linkat(AT_FDCWD, o, AT_FDCWD, n, 0); }
int renameat2(int od, const char *o, int nd, const char *n, unsigned fl)
{
    if (fl && getenv("NGR_TEST_NO_NOREPLACE")) {
        errno = EINVAL;
        return -1;
    }
    maybe_kill(2, "name");
    return (int)syscall(SYS_renameat2, od, o, nd, n, fl);
}
int renameat(int od, const char *o, int nd, const char *n) { return renameat2(od, o, nd, n, 0); }
int rename(const char *o, const char *n) { return renameat2(AT_FDCWD, o, AT_FDCWD, n, 0); }
EOF
gcc -shared -fPIC -O1 -o killer.so killer.c || fail "cannot build killer.so"

cat >app.py <<'EOF'
import threading
t = threading.Thread(target=print, args=("thread",)); t.start(); t.join()
print("done")
EOF
$PY app.py >base.out 2>&1 || fail "baseline"

# check DIR: what a reader finds after the kill.  Prints "traces=N temps=M".
check_dir() {
    "$PY" - "$1" <<'EOF'
import os, re, struct, sys
d = sys.argv[1]
traces = temps = 0
for f in sorted(os.listdir(d)):
    p = os.path.join(d, f)
    if f.endswith(".ngrtrace"):
        data = open(p, "rb").read(4096)
        if len(data) < 72 or data[:8] != b"NGRTRACE":
            sys.exit("%s: %d bytes, starts %r: not a complete header" % (f, len(data), data[:8]))
        major, minor, hsize, csize = struct.unpack_from("<HHII", data, 8)
        tid, = struct.unpack_from("<Q", data, 24)
        pid, = struct.unpack_from("<I", data, 44)
        if major != 1 or hsize != 4096 or csize == 0 or tid == 0 or "-%d-" % pid not in f:
            sys.exit("%s: bad header fields %r" % (f, (major, hsize, csize, tid, pid)))
        traces += 1
    elif re.fullmatch(r"\.nogilrace-[0-9]+-[0-9a-f]{16}\.tmp", f):
        temps += 1
    else:
        sys.exit("unexpected file %s" % f)
print("traces=%d temps=%d" % (traces, temps))
EOF
}

modes=("tmpfile" "named NGR_TEST_NO_TMPFILE=1" "named-link NGR_TEST_NO_TMPFILE=1 NGR_TEST_NO_NOREPLACE=1")
for m in "${modes[@]}"; do
    mname=${m%% *} menv=${m#"$mname"}
    for at in fallocate:1 mmap:1 name:1 fallocate:2; do
        d=$PWD/d-$mname-${at/:/}
        mkdir "$d"
        # shellcheck disable=SC2086
        env $menv NGR_TEST_KILL_AT=$at NGR_TEST_KILL_DIR="$d" NOGILRACE_TRACE_DIR="$d" \
            LD_PRELOAD="$PWD/killer.so $NGR_PRELOAD" "$PY" app.py >out 2>err
        rc=$?
        [ "$rc" = 137 ] || fail "[$mname $at] not killed: exit $rc $(cat err)"
        found=$(check_dir "$d") || fail "[$mname $at] $found"
        case $at in
            fallocate:2) want="traces=1 temps=0" ;;   # named, then killed: a complete header
            *) want="traces=0" ;;                      # killed before the name: no trace
        esac
        [[ $found == "$want"* ]] || fail "[$mname $at] found $found, want $want"
        # The analyzer never takes a temporary for a trace.
        if [ "$want" = "traces=0" ] && [ "$found" != "traces=0 temps=0" ]; then
            "$NGR_ANALYZER" report "$d" >rep.out 2>rep.err
            [ "$?" = 2 ] && grep -q "no trace files" rep.err || fail "[$mname $at] report on temps only: $(cat rep.err)"
        fi
        echo "ok: [$mname] killed at $at: $found"
    done
    # Not killed: one finished trace, no temporary left, same output.
    d=$PWD/d-$mname-none && mkdir "$d"
    # shellcheck disable=SC2086
    env $menv NGR_TEST_KILL_DIR="$d" NOGILRACE_TRACE_DIR="$d" LD_PRELOAD="$PWD/killer.so $NGR_PRELOAD" \
        "$PY" app.py >out 2>&1 || fail "[$mname] exit $?: $(cat out)"
    cmp -s out base.out || fail "[$mname] output differs: $(cat out)"
    found=$(check_dir "$d") || fail "[$mname] $found"
    [ "$found" = "traces=1 temps=0" ] || fail "[$mname] found $found"
    [ "$(stat -c %a "$d"/*.ngrtrace)" = 600 ] || fail "[$mname] mode $(stat -c %a "$d"/*.ngrtrace)"
    "$NGR_ANALYZER" dump "$d" | grep -q "^trace .* finished" || fail "[$mname] trace not finished"
    echo "ok: [$mname] not killed: $found, finished"
done
echo "create: ok"
