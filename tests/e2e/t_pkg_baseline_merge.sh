#!/usr/bin/env bash
# t_pkg_baseline_merge — nightly jobs: reports of two runs merged, and a baseline.
#
# Run 1 traces a program with one race (a lost update on counter); run 2 traces it again and a
# second program with another (a check-then-act on a cache: one or two findings, by the pair of
# sites the threads met at), each run keeping its traces in its own directory.  Expected:
#   * `report run1 run2` (traces) and `report r1.json r2.json` (their JSON reports) give the same
#     merged report: 2 runs, the counter race seen in both, the cache race in one;
#   * `report --baseline r1.json run2` exits 66 only for the new race, the counter race is marked
#     known; against run 1 alone it exits 0; `nogilrace run --baseline` does the same;
#   * `--write-baseline` writes the updated baseline (both races), against which run 2 passes;
#   * a baseline that is not a report: exit 2, one line naming the file and the byte.
set -u
fail() { echo "FAIL: $*"; exit 1; }
A=$NGR_ANALYZER

cat >counter_prog.py <<'PY'
import threading
counter = 0
def work():
    global counter
    for _ in range(3000):
        counter += 1
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
cat >cache_prog.py <<'PY'
import threading
cache = {}
go = threading.Barrier(3)
def work(n):
    go.wait()
    for k in range(300):
        if k not in cache:
            cache[k] = n
ts = [threading.Thread(target=work, args=(n,)) for n in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
traced() { # traced DIR PROG: one traced run of PROG writing its trace into DIR
    mkdir -p "$1"
    LD_PRELOAD=$NGR_PRELOAD NOGILRACE_TRACE_DIR=$1 "$NGR_PYTHON" "$2" || fail "$2 failed"
}
traced run1 counter_prog.py
traced run2 counter_prog.py
traced run2 cache_prog.py

"$A" report --format=json run1 >r1.json 2>/dev/null; rc=$?
[ "$rc" = 66 ] || fail "report run1: exit $rc"
"$A" report --format=json run2 >r2.json 2>/dev/null
"$A" report --format=json run1 run2 >merged-traces.json 2>/dev/null; rc=$?
[ "$rc" = 66 ] || fail "report run1 run2: exit $rc"
"$A" report --format=json r1.json r2.json >merged-reports.json 2>merge.err; rc=$?
[ "$rc" = 66 ] || { cat merge.err; fail "report r1.json r2.json: exit $rc"; }
"$NGR_PYTHON" - merged-traces.json merged-reports.json <<'PY' || fail "merged reports"
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    runs = {(r["kind"], r["var_name"]): r["runs"] for r in d["races"]}
    print(path, d["runs"], runs)
    assert d["runs"] == 2, d["runs"]
    assert runs.get(("lost-update", "counter_prog.counter")) == 2, runs
    assert runs.get(("check-then-act", "cache_prog.cache")) == 1, runs
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda d: sorted((r["id"], r["runs"], r["count"]) for r in d["races"])
assert key(a) == key(b), (key(a), key(b))
PY
"$A" report r1.json run2 >merged.txt 2>/dev/null
grep -q "Seen in 2 of 2 runs" merged.txt && grep -q "Seen in 1 of 2 runs" merged.txt && grep -q "; 2 runs" merged.txt ||
    { cat merged.txt; fail "the text report does not count runs"; }

# the baseline
"$A" report --baseline r1.json run2 >base.txt 2>/dev/null; rc=$?
[ "$rc" = 66 ] || fail "report --baseline r1.json run2: exit $rc, want 66 (the cache race is new)"
grep -Eq "[1-9] new, 1 in the baseline" base.txt || { tail -n 3 base.txt; fail "the summary does not count new and known"; }
"$A" report --format=json --baseline r1.json run2 2>/dev/null | "$NGR_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
known = {(r["var_name"], r["in_baseline"]) for r in d["races"]}
print(known, d["summary"])
assert known == {("counter_prog.counter", True), ("cache_prog.cache", False)}, known
s = d["summary"]
assert s["known"] == 1 and s["new"] == s["races"] - 1 >= 1 and d["baseline"] == "r1.json", s
' || fail "--baseline: in_baseline / summary"
"$A" report --baseline r1.json run1 >/dev/null 2>&1; rc=$?
[ "$rc" = 0 ] || fail "report --baseline r1.json run1: exit $rc, want 0 (nothing new)"
"$A" run --baseline r1.json -- "$NGR_PYTHON" counter_prog.py >/dev/null 2>&1; rc=$?
[ "$rc" = 0 ] || fail "nogilrace run --baseline r1.json -- counter_prog.py: exit $rc, want 0"
"$A" run --baseline r1.json -- "$NGR_PYTHON" cache_prog.py >/dev/null 2>&1; rc=$?
[ "$rc" = 66 ] || fail "nogilrace run --baseline r1.json -- cache_prog.py: exit $rc, want 66"

# the updated baseline
cp r1.json baseline.json
"$A" report --baseline baseline.json --write-baseline baseline.json run2 >/dev/null 2>&1; rc=$?
[ "$rc" = 66 ] || fail "writing the updated baseline: exit $rc, want 66 (this run still had a new race)"
ls baseline.json.tmp-* >/dev/null 2>&1 && fail "a temporary file was left"
"$A" report --baseline baseline.json run1 run2 >/dev/null 2>&1; rc=$?
[ "$rc" = 0 ] || fail "report against the updated baseline: exit $rc, want 0"

# a bad baseline
printf '{"tool": {"name": "nogilrace"}, "version": 2, "races": [' >bad.json
"$A" report --baseline bad.json run1 >out.txt 2>err.txt; rc=$?
[ "$rc" = 2 ] || fail "bad baseline: exit $rc, want 2"
[ "$(wc -l <err.txt)" = 1 ] && grep -q "^nogilrace: --baseline: bad.json: byte 56: " err.txt ||
    { cat err.txt; fail "bad baseline: not one line naming the file and the byte"; }
[ -s out.txt ] && fail "bad baseline: a report was printed"
echo ok
