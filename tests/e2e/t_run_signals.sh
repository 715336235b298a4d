#!/usr/bin/env bash
# Ctrl-C and signals reach the command and still leave an analysed report:
#   * SIGINT to the whole process group (what the terminal does on Ctrl-C): Python dies of its
#     KeyboardInterrupt (130), `run` survives, analyses, prints the race, exits 130;
#   * SIGTERM to `run` alone (kill, CI timeout): forwarded to the command (143), report printed.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cat >racy_then_wait.py <<'PY'
import os, sys, threading, time
hits = 0
def work():
    global hits
    for _ in range(200):
        hits += 1
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
open(sys.argv[1], "w").close()   # the race is in the trace: tell the test to signal us
time.sleep(60)
PY
wait_for() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# 1. Ctrl-C: run gets its own process group, which we signal as a whole, as a terminal does.  A
# background job of a script starts with SIGINT ignored: restore the default first, as a shell
# does for a foreground job.
"$NGR_PYTHON" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' \
    "$NGR_ANALYZER" run --format=json -- "$NGR_PYTHON" racy_then_wait.py ready1 >out1.json 2>err1.txt &
pid=$!
wait_for ready1 || { kill -KILL -- -"$pid"; fail "the program never got ready"; }
kill -INT -- -"$pid"
wait "$pid"; rc=$?
cat err1.txt
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc, want 130"
grep -q '"hits\|\.hits' out1.json || { cat out1.json; fail "Ctrl-C: no report naming hits"; }
echo "ok: Ctrl-C -> 130 with a report"

# 2. SIGTERM to run only.
"$NGR_ANALYZER" run --format=json -- "$NGR_PYTHON" racy_then_wait.py ready2 >out2.json 2>err2.txt &
pid=$!
wait_for ready2 || { kill -KILL "$pid"; fail "the program never got ready"; }
kill -TERM "$pid"
wait "$pid"; rc=$?
cat err2.txt
[ "$rc" = 143 ] || fail "SIGTERM: exit $rc, want 143"
grep -q '\.hits' out2.json || { cat out2.json; fail "SIGTERM: no report naming hits"; }
echo "ok: SIGTERM -> 143 with a report"
