#!/usr/bin/env bash
# t_run_forks_killed — issue #12's scenario: a racy program forks 200 children and kills each at
# once (SIGKILL and SIGTERM in turn, from the parent, right after fork returns).  A child killed
# between creating its trace and writing the header leaves an empty or all-zero file; one such
# file made `nogilrace run` exit 2 with no report (3 runs in 10 with 50 children).  Now:
#   * run exits 66 and the report names the parent's race, whatever the children left;
#   * each file without a header is a warning (the first few named, the rest counted), and the
#     summary line counts them;
#   * report on the kept traces gives the same.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cat >forks.py <<'PY'
import os, signal, threading, time
counter = 0
def work():
    global counter
    for _ in range(300):
        counter += 1
ts = [threading.Thread(target=work, name=f"worker-{n}") for n in range(3)]
for t in ts: t.start()
for t in ts: t.join()
for i in range(200):
    pid = os.fork()
    if pid == 0:          # killed at birth; never reached in practice, but never outlive the test
        time.sleep(30)
        os._exit(0)
    os.kill(pid, signal.SIGKILL if i % 2 else signal.SIGTERM)
    os.waitpid(pid, 0)
print("forked and killed 200 children")
PY
"$NGR_ANALYZER" run --keep-traces traces -- "$NGR_PYTHON" forks.py >out.txt 2>err.txt
rc=$?
[ "$rc" = 66 ] || { tail -n 20 err.txt; cat out.txt; fail "run exit $rc, want 66 (races found)"; }
grep -q '^WARNING: nogilrace: lost-update on forks.counter' out.txt || { cat out.txt; fail "the parent's race is not reported"; }
grep -q 'forked and killed 200 children' out.txt || fail "the program's output is missing"
summary=$(tail -n 1 out.txt)
echo "$summary"
echo "$(ls traces | wc -l) trace files; $(find traces -size 0 | wc -l) empty;" \
     "$(grep -c 'no trace header' err.txt) header warnings on stderr"
# every file without a header that is named must be named as such, and counted in the summary
named=$(grep -c 'no trace header (the process died at start' err.txt)
counted=$(sed -n 's/.*; \([0-9]*\) traces\{0,1\} without a header.*/\1/p' <<<"$summary")
if [ "$named" -gt 0 ]; then
    [ -n "$counted" ] && [ "$counted" -ge "$named" ] || fail "summary counts '$counted' traces without a header, stderr names $named"
fi
bad=$(grep -v -e '^nogilrace: warning: ' -e '^nogilrace: run: [0-9]* traces\{0,1\} kept in ' err.txt)
[ -z "$bad" ] || fail "stderr holds more than warnings: $bad"

"$NGR_ANALYZER" report traces >report.txt 2>report.err
rc=$?
[ "$rc" = 66 ] || { tail -n 5 report.err; fail "report on the kept traces: exit $rc, want 66"; }
grep -q '^WARNING: nogilrace: lost-update on forks.counter' report.txt || fail "report: the parent's race is not reported"
echo PASS
