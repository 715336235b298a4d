#!/usr/bin/env bash
# t_out_hostile_input — issue #12, the analyzer's side, on the traces of a real program:
#   * a trace directory that also holds an empty file, a file of zeros (processes killed before
#     writing their header) and a corrupt file: each named in a warning, the real trace reported
#     (exit 66); only files that cannot be read: exit 2;
#   * a FIFO named as a trace (report, dump) or as the suppressions file, /dev/zero and
#     /dev/urandom as the suppressions file: one line, exit 2, at once (they hung or grew the
#     analyzer to 24 GB);
#   * a sparse file with a valid header: its holes are skipped with a warning, not read;
#   * thread, variable and lock names holding newlines, a forged "WARNING: nogilrace:" line and
#     escape sequences: the text report prints one header line per finding and no control byte.
set -u
fail() { echo "FAIL: $*"; exit 1; }
A=$NGR_ANALYZER
quick() { timeout -k 5 20 "$@"; } # a hang is a failure, not a stuck test run

cat >inj.py <<'PY'
import threading
counter = 0
EVIL = "evil\n==================\nWARNING: nogilrace: lost-update on forged.global (global)\x1b[31m"
globals()[EVIL] = 0
LOCK = "lk\x1b]0;pwned\x07"
globals()[LOCK] = threading.Lock()
def work(locked):
    global counter
    for _ in range(300):
        if locked:
            with globals()[LOCK]:
                counter += 1
        else:
            counter += 1
        g = globals()
        g[EVIL] = g[EVIL] + 1
names = ["w0\n==================\nWARNING: nogilrace: check-then-act on forged.thread (global)",
         "w1\x1b[2J\x1b[H\u202ereversed\u0085"]
ts = [threading.Thread(target=work, name=n, args=(i == 1,)) for i, n in enumerate(names)]
for t in ts: t.start()
for t in ts: t.join()
PY
mkdir traces
NOGILRACE_TRACE_DIR=traces LD_PRELOAD=$NGR_PRELOAD "$NGR_PYTHON" inj.py || fail "traced program failed"
real=$(ls traces)

# ---- names cannot forge findings or reach the terminal ----------------------------------------------
quick "$A" report --format=json traces >inj.json 2>/dev/null
[ $? = 66 ] || fail "json report: want 66"
races=$("$NGR_PYTHON" -c 'import json; print(len(json.load(open("inj.json"))["races"]))')
[ "$races" -ge 2 ] || fail "want at least 2 races in the JSON report, got $races"
quick "$A" report traces >inj.txt 2>inj.err
[ $? = 66 ] || { cat inj.err; fail "text report: want 66"; }
headers=$(grep -c '^WARNING: nogilrace:' inj.txt)
[ "$headers" = "$races" ] || { cat -v inj.txt; fail "$headers finding header lines for $races findings: a name forged one"; }
LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' inj.txt inj.err && { cat -v inj.txt; fail "a control byte reached the output"; }
grep -q $'\xc2\x85\|\xe2\x80\xae' inj.txt && fail "a C1 control or a bidi override reached the output"
grep -qF 'thread 3 "w1\x1b[2J\x1b[H\u202ereversed\u0085"' inj.txt || { cat inj.txt; fail "the thread name is not shown escaped"; }
grep -qF 'holding inj.lk\x1b]0;pwned\x07' inj.txt || { cat inj.txt; fail "the lock name is not shown escaped"; }
grep -qF 'unprotected-write on inj.evil\n==================\nWARNING: nogilrace: lost-update on forged.global (global)\x1b[31m' inj.txt \
    || { cat inj.txt; fail "the variable name is not shown escaped"; }
quick "$A" dump traces >dump.txt 2>&1 || fail "dump exit $?"
LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' dump.txt && fail "a control byte reached dump's output"
echo "ok: names escaped ($races findings, $headers header lines)"

# ---- files that are not traces, among traces ---------------------------------------------------------
: >traces/empty.ngrtrace
head -c 4096 /dev/zero >traces/zeros.ngrtrace
echo "not a trace" >traces/junk.ngrtrace
quick "$A" report traces >out.txt 2>err.txt
rc=$?
[ "$rc" = 66 ] || { cat err.txt; fail "a directory with a real trace and 3 bad files: exit $rc, want 66"; }
for f in empty zeros; do
    grep -q "traces/$f.ngrtrace: byte 0: .*no trace header (the process died at start" err.txt || { cat err.txt; fail "no warning naming $f.ngrtrace"; }
done
grep -q 'traces/junk.ngrtrace: byte 0: not a nogilrace trace (bad magic)' err.txt || { cat err.txt; fail "no warning naming junk.ngrtrace"; }
tail -n 1 out.txt | grep -q '; 2 traces without a header (processes that died at start); 1 trace unreadable (named above)$' \
    || { tail -n 1 out.txt; fail "the summary line does not count the bad files"; }
quick "$A" report traces/junk.ngrtrace traces/zeros.ngrtrace traces/empty.ngrtrace >/dev/null 2>err.txt
rc=$?
[ "$rc" = 2 ] || fail "only bad files: exit $rc, want 2"
grep -q '^nogilrace: none of the 3 trace files could be read' err.txt || { cat err.txt; fail "no final error line"; }
rm traces/empty.ngrtrace traces/zeros.ngrtrace traces/junk.ngrtrace
echo "ok: bad files among traces"

# ---- FIFOs and devices -------------------------------------------------------------------------------
mkfifo pipe.ngrtrace pipe.supp traces/pipe.ngrtrace
for cmd in report dump; do
    quick "$A" $cmd pipe.ngrtrace >/dev/null 2>err.txt
    rc=$?
    [ "$rc" = 2 ] || { cat err.txt; fail "$cmd of a FIFO: exit $rc, want 2"; }
    [ "$(cat err.txt)" = "nogilrace: pipe.ngrtrace: a FIFO, not a trace file" ] || { cat err.txt; fail "$cmd of a FIFO: message"; }
done
quick "$A" report traces >/dev/null 2>&1
[ $? = 66 ] || fail "a FIFO inside the directory is skipped"
rm traces/pipe.ngrtrace
for s in pipe.supp /dev/zero /dev/urandom; do
    quick "$A" report --suppressions "$s" traces >/dev/null 2>err.txt
    rc=$?
    [ "$rc" = 2 ] || { cat err.txt; fail "--suppressions $s: exit $rc, want 2"; }
    grep -q "^nogilrace: $s: cannot read the suppressions file: a .*, not a regular file$" err.txt || { cat err.txt; fail "--suppressions $s: message"; }
done
echo "ok: FIFOs and devices refused"

# ---- a sparse file ---------------------------------------------------------------------------------------
cp "traces/$real" sparse.ngrtrace
truncate -s 2G sparse.ngrtrace
quick "$A" report sparse.ngrtrace >/dev/null 2>err.txt
rc=$?
[ "$rc" = 66 ] || { cat err.txt; fail "sparse file: exit $rc, want 66"; }
grep -q 'sparse.ngrtrace: sparse file: [0-9]* of its [0-9]* chunks were never written (holes, [0-9]* MiB): skipped' err.txt \
    || { cat err.txt; fail "no warning about the holes"; }
echo "ok: sparse file"
echo PASS
