#!/usr/bin/env bash
# `nogilrace run -- python -m pytest --parallel-threads=8` on the bundled suite (tests/pytest-suite,
# run in a venv of the python under test with pytest and pytest-run-parallel made by
# scripts/ft-venv): exactly the racy tests' variables are reported, the clean file gives nothing,
# pytest's own status passes through (0 -> 66 because races were found).
set -u
fail() { echo "FAIL: $*"; exit 1; }
venv_py=$("$NGR_ROOT/scripts/ft-venv" "$NGR_PYTHON") || fail "scripts/ft-venv could not make the pytest venv"
suite=$NGR_ROOT/tests/pytest-suite

# pytest's own output goes to a file so the JSON report alone is on stdout; `exec` keeps the
# Python process the one nogilrace started.
check_run() { # check_run PYTEST_OPTIONS... : one traced pytest run of the suite, then its findings
"$NGR_ANALYZER" run --format=json -- /bin/sh -c 'exec "$0" "$@" >pytest.out 2>&1' \
    "$venv_py" -m pytest -q "$@" "$suite" >report.json 2>run.err
rc=$?
echo "== pytest $*"
cat pytest.out run.err
tail -n 1 pytest.out | grep -q "passed" || fail "pytest did not run the suite"
grep -q "failed" pytest.out && fail "a test of the suite failed"
[ "$rc" = 66 ] || fail "exit status $rc, want 66 (races found, pytest passed)"
"$NGR_PYTHON" - "$suite" report.json <<'PY' || exit 1
import glob, os, re, sys
sys.path.insert(0, os.path.join(os.environ["NGR_ROOT"], "tests", "corpus"))
from runner import findings_of, strip_key
suite, report = sys.argv[1:]
want, also_ok = set(), set()
for path in glob.glob(os.path.join(suite, "test_*.py")):
    for line in open(path):
        m = re.match(r"# (expect|also-ok): (\S+) (\S+)( -- .+)?$", line.strip())
        if m:
            (want if m.group(1) == "expect" else also_ok).add(m.group(2, 3))
got = {(k, strip_key(v)) for k, v in findings_of(open(report).read())}
print("expected:", sorted(want))
print("reported:", sorted(got))
# KIND may be KIND1|KIND2: either (a window the analyzer may classify either way)
def covers(spec, f):
    return f[0] in spec[0].split("|") and f[1] == spec[1]
missed = {s for s in want if not any(covers(s, f) for f in got)}
extra = {f for f in got if not any(covers(s, f) for s in want | also_ok)}
for k, v in sorted(missed):
    print(f"FAIL: missed {k} {v}")
for k, v in sorted(extra):
    print(f"FAIL: unexpected {k} {v}")
sys.exit(1 if missed or extra else 0)
PY
}

# The migration guide's stress step, as the issue gives it ...
check_run --parallel-threads=8
# ... and with each thread repeating every test.
check_run --parallel-threads=4 --iterations=3
