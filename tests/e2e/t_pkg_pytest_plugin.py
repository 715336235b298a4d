"""t_pkg_pytest_plugin.py — `pytest --nogilrace`, installed with the package from a clean clone.

In a fresh venv of the interpreter under test: nogilrace from the clone, pytest, pytest-run-parallel
and pytest-xdist from the package index.  The bundled suite (tests/pytest-suite: each racy file
names the races it plants in `# expect:` lines, test_clean.py plants none) is run the way users
would, with no other step (the plugin re-executes pytest under the tracer):

* --parallel-threads=4 --iterations=3: the session fails (exit 1); the race section names every planted race with
  a test of the file that planted it, and nothing else; the JSON report (--nogilrace-report) names
  the test of each access; the summary line counts the races.
* the clean file alone: exit 0, "nogilrace: no races".
* pytest-xdist, -n 2 with the same: one trace per worker (and the controller), analysed
  together: the same races with the same tests; a SARIF report is written too; the clean file
  passes.
* a baseline (--nogilrace-baseline, a report of a run of test_racy_counter.py): that race is known,
  the session passes; the rest of the suite still fails it.
* under `nogilrace run -- python -m pytest --nogilrace`, the tests are marked and `run` reports them.
* a test that starts a Python whose tracer has no hooks library (a copy of the shim alone): the
  session fails, saying a process ran untraced, although no race was found.
* a pytest that stays untraced after re-executing itself (NOGILRACE_HOOKS=0), and a bad
  --nogilrace-report, are usage errors.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pkg_helpers  # noqa: E402
from t_sync_helpers import check, fail  # noqa: E402,F401

TMP = os.environ.get("NGR_TMP", ".")
# As t_run_pytest: with one iteration of 4 threads, a GIL build sometimes runs the monkeypatch
# test's threads one after the other, and stores of the value already there are not seen.
PAR = ["--parallel-threads=4", "--iterations=3"]


# A test (not named test_*.py: the suite run above must not collect it) starting a Python under a
# copy of the shim in a directory without hooks libraries: that process runs untraced, NO_HOOKS.
UNTRACED_CHILD = """\
import os, shutil, subprocess, sys
import nogilrace


def test_child_without_hooks(tmp_path):
    shutil.copy(nogilrace.preload(), tmp_path / "libnogilrace.so")
    env = dict(os.environ, LD_PRELOAD=str(tmp_path / "libnogilrace.so"))
    subprocess.run([sys.executable, "-c", "print(1)"], env=env, check=True)
"""


def strip_key(var):
    m = re.match(r"^(.*?)\[.*\]$", var)
    return m.group(1) if m else var


def expectations(suite):
    """{file: [(kinds, var)]} planted, and the (kind, var) pairs also allowed."""
    want, also_ok = {}, set()
    for path in sorted(glob.glob(os.path.join(suite, "test_*.py"))):
        for line in open(path):
            m = re.match(r"# (expect|also-ok): (\S+) (\S+)( -- .+)?$", line.strip())
            if not m or m.group(2) == "clean":
                continue
            kinds = set(m.group(2).split("|"))
            if m.group(1) == "expect":
                want.setdefault(os.path.basename(path), []).append((kinds, m.group(3)))
            else:
                also_ok |= {(k, m.group(3)) for k in kinds}
    return want, also_ok


def pytest(venv, args, cwd, env=None):
    r = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pytest", "-p", "no:cacheprovider"] + args,
                       cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    print("== pytest %s: exit %d" % (" ".join(args), r.returncode))
    print(r.stdout[-6000:], r.stderr[-3000:])
    return r


def check_races(label, report, want, also_ok):
    """Every planted race reported with a test of its file; nothing else; accesses name tests."""
    races = json.load(open(report))["races"]
    for file, planted in want.items():
        for kinds, var in planted:
            hits = [r for r in races if r["kind"] in kinds and strip_key(r["variable"]) == var]
            check(hits, "%s: %s on %s not reported" % (label, "|".join(sorted(kinds)), var))
            check(any(t.startswith(file + "::") for r in hits for t in r["tests"]),
                  "%s: %s: tests %s, none of %s" % (label, var, [r["tests"] for r in hits], file))
            check(all(a["test"] and a["test"].startswith(file + "::") and a["phase"] == "call"
                      for r in hits for a in r["accesses"]),
                  "%s: %s: accesses not in the call of a test of %s" % (label, var, file))
    allowed = {(k, v) for planted in want.values() for kinds, v in planted for k in kinds} | also_ok
    extra = {(r["kind"], strip_key(r["variable"])) for r in races} - allowed
    check(not extra, "%s: unexpected races %s" % (label, sorted(extra)))
    return races


def main():
    try:
        clone = os.path.join(TMP, "clone")
        pkg_helpers.clean_tree(clone)
        venv = os.path.join(TMP, "venv")
        pkg_helpers.venv(venv)
    except pkg_helpers.Skip as e:
        print("skip:", e)
        sys.exit(77)
    check(pkg_helpers.pip(venv, clone, "pytest", "pytest-run-parallel", "pytest-xdist"),
          "pip install of the clone, pytest, pytest-run-parallel and pytest-xdist")
    suite = os.path.join(TMP, "suite")
    shutil.copytree(os.path.join(clone, "tests", "pytest-suite"), suite)
    want, also_ok = expectations(suite)
    check(want, "no expectations in the suite")

    # ---- threads of pytest-run-parallel ---------------------------------------------------------
    r = pytest(venv, ["--nogilrace", *PAR, "--nogilrace-report=json:pr.json"], suite)
    check(r.returncode == 1, "racy suite: exit %d, want 1" % r.returncode)
    check(re.search(r"passed, \d+ racy in", r.stdout), "racy suite: tests did not all pass, or no race count")
    races = check_races("parallel-threads", os.path.join(suite, "pr.json"), want, also_ok)
    check("nogilrace: %d race" % len(races) in r.stdout, "no race section")
    section = r.stdout[r.stdout.find("nogilrace: %d race" % len(races)):]
    for race in races:
        check("%s on %s" % (race["kind"], race["variable"]) in section, "%s not in the section" % race["variable"])
        check(race["tests"][0] in section, "%s's test not in the section" % race["variable"])

    tmpdir = os.path.join(TMP, "tmpdir")  # where the session's temporary trace directory goes
    os.makedirs(tmpdir)
    r = pytest(venv, ["--nogilrace", *PAR, "test_clean.py"], suite, env=dict(os.environ, TMPDIR=tmpdir))
    check(r.returncode == 0 and "nogilrace: no races" in r.stdout, "clean file: exit %d" % r.returncode)
    check(not os.listdir(tmpdir), "left in TMPDIR: %s" % os.listdir(tmpdir))

    # ---- pytest-xdist workers -----------------------------------------------------------------
    r = pytest(venv, ["--nogilrace", "-n", "2", *PAR, "--nogilrace-report=json:x.json",
                      "--nogilrace-report=sarif:x.sarif"], suite)
    check(r.returncode == 1, "xdist: exit %d, want 1" % r.returncode)
    x = json.load(open(os.path.join(suite, "x.json")))
    workers = [t for t in x["traces"] if " -c " in t["cmdline"]]
    check(len(workers) == 2, "xdist: %d worker traces, want 2: %s" % (len(workers), [t["cmdline"] for t in x["traces"]]))
    check_races("xdist", os.path.join(suite, "x.json"), want, also_ok)
    sarif = json.load(open(os.path.join(suite, "x.sarif")))
    results = sarif["runs"][0]["results"]
    check(len(results) == len(x["races"]) and all(res["properties"]["tests"] for res in results),
          "xdist: SARIF results without tests")
    r = pytest(venv, ["--nogilrace", "-n", "2", *PAR, "test_clean.py"], suite)
    check(r.returncode == 0 and "nogilrace: no races" in r.stdout, "xdist clean file: exit %d" % r.returncode)

    # ---- a baseline ---------------------------------------------------------------------------
    r = pytest(venv, ["--nogilrace", *PAR, "--nogilrace-report=json:base.json",
                      "test_racy_counter.py"], suite)
    check(r.returncode == 1, "counter file: exit %d, want 1" % r.returncode)
    r = pytest(venv, ["--nogilrace", *PAR, "--nogilrace-baseline=base.json",
                      "test_racy_counter.py"], suite)
    check(r.returncode == 0 and "nogilrace: no new races" in r.stdout and "known (in the baseline" in r.stdout,
          "counter file against its baseline: exit %d" % r.returncode)
    r = pytest(venv, ["--nogilrace", *PAR, "--nogilrace-baseline=base.json"], suite)
    check(r.returncode == 1, "the suite against the counter's baseline: exit %d, want 1" % r.returncode)

    # ---- under `nogilrace run` ------------------------------------------------------------------
    run = subprocess.run([os.path.join(venv, "bin", "nogilrace"), "run", "--format=json", "--", "/bin/sh", "-c",
                          'exec "$0" "$@" >run-pytest.out 2>&1', os.path.join(venv, "bin", "python"), "-m", "pytest",
                          "-p", "no:cacheprovider", "--nogilrace", *PAR, "test_racy_counter.py"],
                         cwd=suite, capture_output=True, text=True, timeout=600)
    print("== nogilrace run -- pytest --nogilrace: exit %d" % run.returncode, run.stderr[-2000:])
    print(open(os.path.join(suite, "run-pytest.out")).read()[-2000:])
    check(run.returncode == 66, "nogilrace run -- pytest --nogilrace: exit %d, want 66" % run.returncode)
    rep = json.loads(run.stdout)
    check(any(t.startswith("test_racy_counter.py::") for race in rep["races"] for t in race["tests"]),
          "under nogilrace run: no race names its test")

    # ---- a process that ran untraced ------------------------------------------------------------
    with open(os.path.join(suite, "untraced_child.py"), "w") as f:
        f.write(UNTRACED_CHILD)
    r = pytest(venv, ["--nogilrace", "untraced_child.py"], suite)
    check(r.returncode == 1 and "1 passed" in r.stdout and "ran untraced" in r.stdout and
          "not everything was traced" in r.stdout,
          "a child without hooks: exit %d, want 1 and the untraced line" % r.returncode)

    # ---- usage -------------------------------------------------------------------------------
    r = pytest(venv, ["--nogilrace", "test_clean.py"], suite, env=dict(os.environ, NOGILRACE_HOOKS="0", TMPDIR=tmpdir))
    check(r.returncode == 4 and "this Python is not traced (NOGILRACE_HOOKS=0" in r.stderr,
          "untraced after re-exec: exit %d" % r.returncode)
    check(not os.listdir(tmpdir), "left in TMPDIR: %s" % os.listdir(tmpdir))
    r = pytest(venv, ["--nogilrace", "--nogilrace-report=xml:out.xml", "test_clean.py"], suite)
    check(r.returncode == 4 and "expected FORMAT:PATH" in r.stderr, "bad --nogilrace-report: exit %d" % r.returncode)
    print("ok")


if __name__ == "__main__":
    main()
