#!/usr/bin/env bash
# --keep-traces DIR: DIR is created (with parents), this run's traces stay there, files already in
# DIR are neither changed nor analysed (an old junk "trace" would make the report fail), and a
# second run adds traces without touching the first run's.  Without it, the temporary trace
# directory is removed.
set -u
fail() { echo "FAIL: $*"; exit 1; }
export TMPDIR=$NGR_TMP/tmp
mkdir -p "$TMPDIR"
cat >racy.py <<'PY'
import threading
n = 0
def work():
    global n
    for _ in range(200):
        n += 1
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY

"$NGR_ANALYZER" run -- "$NGR_PYTHON" racy.py >out0.txt 2>&1; rc=$?
[ "$rc" = 66 ] || { cat out0.txt; fail "temp-dir run: exit $rc, want 66"; }
[ -z "$(ls -A "$TMPDIR")" ] || { ls -la "$TMPDIR"; fail "the temporary trace directory was left behind"; }
echo "ok: temporary traces removed"

mkdir -p keep
echo "my notes" >keep/notes.txt
echo "not a trace" >keep/old.ngrtrace
sums0=$(md5sum keep/notes.txt keep/old.ngrtrace)
"$NGR_ANALYZER" run --keep-traces keep/sub/dir -- "$NGR_PYTHON" racy.py >out1.txt 2>&1; rc=$?
[ "$rc" = 66 ] || { cat out1.txt; fail "nested --keep-traces: exit $rc, want 66"; }
ls keep/sub/dir/*.ngrtrace >/dev/null 2>&1 || fail "no trace kept in keep/sub/dir"

"$NGR_ANALYZER" run --keep-traces keep -- "$NGR_PYTHON" racy.py >out2.txt 2>&1; rc=$?
[ "$rc" = 66 ] || { cat out2.txt; fail "--keep-traces with old files: exit $rc, want 66 (old files analysed?)"; }
first=$(ls keep/*.ngrtrace | grep -v old.ngrtrace)
[ -n "$first" ] || fail "no trace kept in keep/"
sums1=$(md5sum $first)
"$NGR_ANALYZER" run --keep-traces=keep -- "$NGR_PYTHON" racy.py >out3.txt 2>&1; rc=$?
[ "$rc" = 66 ] || { cat out3.txt; fail "second --keep-traces run: exit $rc, want 66"; }
[ "$(md5sum keep/notes.txt keep/old.ngrtrace)" = "$sums0" ] || fail "the user's files in DIR changed"
[ "$(md5sum $first)" = "$sums1" ] || fail "the first run's traces changed"
n=$(ls keep/*.ngrtrace | grep -vc old.ngrtrace)
[ "$n" -gt "$(echo "$first" | wc -l)" ] || fail "the second run added no trace"
echo "ok: kept, not overwritten ($n traces)"
