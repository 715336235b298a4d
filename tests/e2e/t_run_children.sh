#!/usr/bin/env bash
# `nogilrace run` follows every Python process the command starts: a subprocess child and a
# multiprocessing child (spawn, a fresh interpreter), each racing on its own module, under a
# clean parent.  Both races must be in the one report.
set -u
fail() { echo "FAIL: $*"; exit 1; }
mkdir lib
for m in sub_race mp_race; do
cat >lib/$m.py <<'PY'
import threading
counter = 0
def work():
    global counter
    for _ in range(200):
        counter += 1
def main():
    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts: t.start()
    for t in ts: t.join()
PY
done
cat >parent.py <<'PY'
import multiprocessing, os, subprocess, sys
sys.path.insert(0, os.path.abspath("lib"))
import mp_race
if __name__ == "__main__":
    subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'lib'); import sub_race; sub_race.main()"], check=True)
    p = multiprocessing.get_context("spawn").Process(target=mp_race.main)
    p.start(); p.join()
    sys.exit(p.exitcode)
PY
"$NGR_ANALYZER" run --format=json -- "$NGR_PYTHON" parent.py >report.json 2>err.txt
rc=$?
cat err.txt
[ "$rc" = 66 ] || { cat report.json; fail "exit $rc, want 66"; }
"$NGR_PYTHON" - report.json <<'PY' || exit 1
import os, sys
sys.path.insert(0, os.path.join(os.environ["NGR_ROOT"], "tests", "corpus"))
from runner import findings_of, strip_key
got = {strip_key(v) for _, v in findings_of(open(sys.argv[1]).read())}
print("reported:", sorted(got))
ok = True
for want in ("sub_race.counter", "mp_race.counter"):
    if want not in got:
        print("FAIL: the report misses", want); ok = False
sys.exit(0 if ok else 1)
PY
