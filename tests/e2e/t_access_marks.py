"""t_access_marks.py — `_nogilrace.mark()` names the test a race ran in (trace format 1.1, MARK).

A traced program marks two "tests" the way the pytest plugin does (setup, call, teardown of each
id).  test_a starts two threads that race on `counter`; it also warms up a thread pool, whose
workers are thus started inside test_a.  test_b submits two racing tasks (on `other`) to that same
pool.  Expected: `import _nogilrace` works only when traced (output and status unchanged either
way), `dump --json` shows the marks in the thread that made them, and the report names test_a
(phase call) for the race on counter and test_b — not test_a, where the pool's threads were
started — for the race on other.  A bad phase is a ValueError.
"""
import json
import os
import subprocess

from t_sync_helpers import Run, check, interpreters

PROG = '''\
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import _nogilrace
except ImportError:  # untraced: the same program, unmarked
    _nogilrace = None
if _nogilrace:
    with open("traced.flag", "w") as f:
        f.write("tracing=%s\\n" % _nogilrace.tracing())
    try:
        _nogilrace.mark("x", 7, True)
    except ValueError:
        open("valueerror.flag", "w").close()


def mark(test, phase, begin):
    if _nogilrace:
        _nogilrace.mark(test, phase, begin)


def run_test(test, body):
    for phase, fn in ((1, None), (2, body), (3, None)):
        mark(test, phase, True)
        if fn:
            fn()
        mark(test, phase, False)


counter = 0
other = 0
pool = ThreadPoolExecutor(2)
go = threading.Barrier(2)


def bump():
    global counter
    for _ in range(3000):
        counter += 1


def bump_other():
    global other
    go.wait()
    for _ in range(3000):
        other += 1


def test_a():
    ts = [threading.Thread(target=bump) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    list(pool.map(lambda i: i, range(8)))  # the pool's threads start here, in test_a


def test_b():
    for f in [pool.submit(bump_other) for _ in range(2)]:
        f.result()


run_test("t_marks.py::test_a", test_a)
run_test("t_marks.py::test_b", test_b)
pool.shutdown()
print("done")
'''


def main():
    for label, py in interpreters():
        r = Run(py, "t_marks", PROG, label=label)
        r.check_unchanged()
        check(r.proc.stdout == "done\n", "%s: output %r" % (label, r.proc.stdout))
        flag = os.path.join(r.dir, "traced.flag")
        check(os.path.exists(flag) and open(flag).read() == "tracing=True\n",
              "%s: _nogilrace missing or not tracing in the traced run" % label)
        check(os.path.exists(os.path.join(r.dir, "valueerror.flag")), "%s: phase 7 accepted" % label)
        marks = r.of("mark")
        main_thread = r.thread_of("MainThread")
        want = [(t, ph, b) for t in ("t_marks.py::test_a", "t_marks.py::test_b")
                for ph in ("setup", "call", "teardown") for b in (True, False)]
        got = [(m["label"], m["phase"], m["begin"]) for m in marks]
        check(got == want, "%s: marks %s, want %s" % (label, got, want))
        check(all(m["thread"] == main_thread for m in marks), "%s: marks not in the main thread" % label)

        rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json", r.tracedir],
                             capture_output=True, text=True, timeout=300)
        check(rep.returncode == 66, "%s: report exit %d: %s" % (label, rep.returncode, rep.stderr[-2000:]))
        races = json.loads(rep.stdout)["races"]
        by_var = {}
        for race in races:
            by_var.setdefault(race["variable"], []).append(race)
        print(label, {v: [(x["kind"], x["tests"]) for x in rs] for v, rs in by_var.items()})
        for var, test in (("t_marks.counter", "t_marks.py::test_a"), ("t_marks.other", "t_marks.py::test_b")):
            check(var in by_var, "%s: no race on %s: %s" % (label, var, sorted(by_var)))
            for race in by_var[var]:
                check(race["tests"] == [test], "%s: %s: tests %s, want [%s]" % (label, var, race["tests"], test))
                for acc in race["accesses"]:
                    check(acc["test"] == test and acc["phase"] == "call",
                          "%s: %s: access in %s (%s), want %s (call)" % (label, var, acc["test"], acc["phase"], test))
    print("ok")


if __name__ == "__main__":
    main()
