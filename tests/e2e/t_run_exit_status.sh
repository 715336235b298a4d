#!/usr/bin/env bash
# `nogilrace run` exit status: the command's own when non-zero (128+N when killed by signal N),
# else 66 when races were found, else 0; 127 for a command that does not exist; 2 for misuse.
set -u
fail() { echo "FAIL: $*"; exit 1; }
run() { "$NGR_ANALYZER" run "$@"; }
expect() { # expect STATUS DESCRIPTION -- COMMAND...  (the -- goes to run)
    local want=$1 what=$2; shift 2
    run "$@" >out.txt 2>err.txt
    local rc=$?
    [ "$rc" = "$want" ] || { cat out.txt err.txt; fail "$what: exit $rc, want $want"; }
    echo "ok: $what -> $rc"
}
cat >racy.py <<'PY'
import threading
counter = 0
def work():
    global counter
    for _ in range(200):
        counter += 1
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
cat >clean.py <<'PY'
import threading
counter = 0
lock = threading.Lock()
def work():
    global counter
    for _ in range(200):
        with lock:
            counter += 1
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
expect 66 "racy program" -- "$NGR_PYTHON" racy.py
grep -q counter out.txt || { cat out.txt; fail "the report does not name the racy variable"; }
expect 0 "clean program" -- "$NGR_PYTHON" clean.py
expect 5 "program exiting 5" -- "$NGR_PYTHON" -c 'import sys; sys.exit(5)'
expect 5 "racy program exiting 5 (its status wins over 66)" -- "$NGR_PYTHON" -c \
    'import runpy, sys; runpy.run_path("racy.py"); sys.exit(5)'
grep -q counter out.txt || { cat out.txt; fail "no report for a racy program exiting 5"; }
expect 143 "program killed by SIGTERM" -- "$NGR_PYTHON" -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'
expect 0 "non-Python command" -- true
expect 1 "failing non-Python command" -- false
expect 127 "missing command" -- ./no-such-command
expect 2 "no command" --
run "$NGR_PYTHON" -c pass >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "a command without -- gave $rc, want 2"
run --help >/dev/null 2>&1 || fail "run --help failed"
