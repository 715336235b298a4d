#!/usr/bin/env bash
# t_shim_files.sh — where traces go and what happens when they cannot: mode 0600 whatever the
# umask, a unique name, nothing overwritten or followed; a full disk (a small tmpfs, real ENOSPC)
# or an unwritable directory gives one warning line and the program runs on unchanged; after a
# full disk the trace is DISABLED and a warning note says why.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$NGR_TMP" || exit 1
PY=$NGR_PYTHON
export NOGILRACE_HOOKS=0

# 16 threads: each needs its own chunk, so a small disk fills up while they run.
cat >app.py <<'EOF'
import threading, sys
total = 0
lock = threading.Lock()
def work(n):
    global total
    for _ in range(3):
        t = threading.Thread(target=lambda: None); t.start(); t.join()
    with lock:
        total += n
ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
print("total", total)
sys.exit(3)
EOF
$PY app.py >base.out 2>base.err; base_rc=$?
[ "$base_rc" = 3 ] || fail "baseline exit $base_rc"

# ---- mode, name, several processes in one directory -------------------------------------------
mkdir t1
( umask 000; for i in 1 2 3; do LD_PRELOAD=$NGR_PRELOAD NOGILRACE_TRACE_DIR=t1 $PY app.py >/dev/null 2>&1; done )
n=0
for f in t1/*; do
    n=$((n + 1))
    [[ $(basename "$f") =~ ^nogilrace-[0-9]+-[0-9a-f]{16}\.ngrtrace$ ]] || fail "bad name $f"
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f") (umask 000)"
done
[ "$n" = 3 ] || fail "3 traces expected in t1, got $n"
echo "ok: mode 0600 and unique names"

# Default directory: the working directory, resolved at activation.
mkdir t2 && (cd t2 && LD_PRELOAD=$NGR_PRELOAD $PY ../app.py >/dev/null 2>&1)
[ "$(ls t2 | wc -l)" = 1 ] || fail "default trace dir is the working directory: $(ls t2)"
echo "ok: default directory"

# ---- unwritable directory: read-only mount, missing directory, a file instead of a directory ----
can_mount=1
mkdir ro && mount -t tmpfs -o ro,size=1m tmpfs ro 2>/dev/null || can_mount=0
touch notadir
dirs="$NGR_TMP/missing/dir $NGR_TMP/notadir"
[ "$can_mount" = 1 ] && dirs="$NGR_TMP/ro $dirs"
for d in $dirs; do
    LD_PRELOAD=$NGR_PRELOAD NOGILRACE_TRACE_DIR=$d $PY app.py >out 2>err; rc=$?
    [ "$rc" = "$base_rc" ] || fail "unwritable $d: exit $rc"
    cmp -s out base.out || fail "unwritable $d: output differs"
    [ "$(wc -l <err)" = 1 ] && grep -q "^nogilrace: cannot create a trace file in $d" err ||
        fail "unwritable $d: want one warning line, got: $(cat err)"
done
[ "$can_mount" = 1 ] && umount ro
echo "ok: unwritable directory (read-only mount: $can_mount)"

# ---- the program closes our descriptor and reuses its number: its file is never touched -------
# (close() and dup2() move the trace to another number first: tracing goes on, t_shim_closefds)
cat >closer.py <<'EOF'
import os, threading
def target(f):
    try:
        return os.readlink("/proc/self/fd/" + f)
    except OSError:  # the descriptor listdir itself used
        return ""
fd = [int(f) for f in os.listdir("/proc/self/fd") if target(f).endswith(".ngrtrace")][0]
os.close(fd)
v = os.open("victim", os.O_RDWR | os.O_CREAT, 0o644)
os.write(v, b"user data\n")
os.dup2(v, fd)
def spawn():
    for _ in range(50):
        t = threading.Thread(target=len, args=("",)); t.start(); t.join()
ts = [threading.Thread(target=spawn) for _ in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
print("done")
EOF
mkdir t3
LD_PRELOAD=$NGR_PRELOAD NOGILRACE_TRACE_DIR=t3 $PY closer.py >out 2>err; rc=$?
[ "$rc" = 0 ] && [ "$(cat out)" = done ] || fail "closed fd: exit $rc, $(cat out) $(cat err)"
[ "$(cat victim)" = "user data" ] && [ "$(stat -c %s victim)" = 10 ] ||
    fail "the program's file was modified: size $(stat -c %s victim)"
[ "$(wc -l <err)" -le 1 ] || fail "closed fd: more than one line: $(cat err)"
echo "ok: a closed and reused trace descriptor ($(cat err))"

# ---- disk full: a tmpfs that holds the header and a few chunks --------------------------------
# Sized from the writer's chunk size: room for the header and four and a half chunks, fewer than
# the program needs (metadata, main thread, workers).
chunk_kib=$(sed -n 's/^#define NGR_CHUNK_SIZE_DEFAULT (\([0-9]*\)u \* 1024u).*/\1/p' "$NGR_ROOT/common/trace_format.h")
[ -n "$chunk_kib" ] || fail "cannot read NGR_CHUNK_SIZE_DEFAULT"
if ! { mkdir full && mount -t tmpfs -o size=$((chunk_kib * 9 / 2))k tmpfs full; }; then
    echo "cannot mount a tmpfs (not root?)"
    exit 77
fi
trap 'umount "$NGR_TMP/full" 2>/dev/null' EXIT
LD_PRELOAD=$NGR_PRELOAD NOGILRACE_TRACE_DIR=$NGR_TMP/full $PY app.py >out 2>err; rc=$?
[ "$rc" = "$base_rc" ] || fail "ENOSPC: exit $rc, stderr $(cat err)"
cmp -s out base.out || fail "ENOSPC: output differs: $(cat out)"
[ "$(wc -l <err)" = 1 ] && grep -q "^nogilrace: .*No space left on device; tracing stopped" err ||
    fail "ENOSPC: want one warning line, got: $(cat err)"
f=$(ls full/*.ngrtrace)
$PY - "$f" <<'EOF' || fail "ENOSPC: trace not readable"
import sys, os
sys.path.insert(0, os.path.join(os.environ["NGR_ROOT"], "tests", "e2e"))
from t_shim_reader import read_trace
t = read_trace(sys.argv[1])
assert "disabled" in t.flag_names, t.flag_names
assert t.process() is not None
# why it stopped, as a warning note (the analyzer's summary)
stops = [n for n in t.notes() if "tracing stopped" in n]
assert len(stops) == 1 and "No space left on device" in stops[0], t.notes()
print("ENOSPC trace:", t.flag_names, len(list(t.records())), "records")
EOF
echo "ok: disk full"
echo "files: ok"
