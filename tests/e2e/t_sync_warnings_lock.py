"""t_sync_warnings_lock.py — 3.14's warnings lock (_warnings._acquire_lock / _release_lock) is a lock.

From 3.14 the warnings module changes its filters only under the interpreter's warnings lock, a C
recursive mutex that Python code takes through `_warnings._acquire_lock()` (`with _wm._lock:` in
catch_warnings.__enter__/__exit__, simplefilter, filterwarnings ...).  Unseen, catch_warnings from
several threads reported a lost update and an unprotected write on `warnings.filters` (the corpus's
stdlib_warnings_gh128384.py on Debian's 3.14 and 3.15 default builds).

Here threads run catch_warnings + simplefilter + warn at once (gh-128384's reproducer).  On 3.14 and
later: nothing is reported on warnings.*; the lock is taken on every enter and exit (an rlock
"<warnings lock>"), its acquires and releases pair up per thread; where the filters are the
module's global list (sys.flags.context_aware_warnings off: default builds), every worker access
to warnings.filters holds it; the program's output and exit status are unchanged.  Before 3.14
there is no such lock: skipped.
"""
import json
import os
import subprocess
import sys

from t_sync_helpers import Run, check, interpreters

LOCK = "<warnings lock>"

PROG = '''\
import threading
import warnings


def test_warning():
    for _ in range(20):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.warn("my warning", UserWarning)


threads = [threading.Thread(target=test_warning, name="tw-%d" % i) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
'''


def version(py):
    """((major, minor), context-aware warnings)"""
    out = subprocess.run([py, "-c", "import sys; print(*sys.version_info[:2], "
                          "getattr(sys.flags, 'context_aware_warnings', 0))"],
                         capture_output=True, text=True).stdout.split()
    return (int(out[0]), int(out[1])), out[2] == "1"


def main():
    ran = 0
    for label, py in interpreters():
        v, in_context = version(py)
        if v < (3, 14):
            print("note: %s is older than 3.14: no warnings lock" % label)
            continue
        ran += 1
        r = Run(py, "warnlock", PROG, label=label)
        r.check_unchanged()
        rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json", r.tracedir],
                             capture_output=True, text=True, timeout=300)
        check(rep.returncode in (0, 66), "%s: report exited %d: %s" % (label, rep.returncode,
                                                                      rep.stderr[-2000:]))
        found = [f for f in json.loads(rep.stdout)["races"]
                 if "warnings." in json.dumps(f)]
        check(not found, "%s: findings on warnings: %s" % (label, json.dumps(found)[:2000]))
        # what the hooks see, counted: every event written (no elided lock rounds, no sampling)
        r = Run(py, "warnlock-all", PROG, label=label, env={"NOGILRACE_EVERY_EVENT": "1"})
        r.check_unchanged()
        acquires = r.sync(obj=LOCK, kind="acquire")
        check(len(acquires) >= 4 * 20 * 2, "%s: %d acquires of %s for %d catch_warnings blocks" %
              (label, len(acquires), LOCK, 4 * 20))
        filt = r.accesses(var="warnings.filters")
        if not in_context:
            check(len(filt) >= 4 * 20, "%s: only %d accesses to warnings.filters" % (label, len(filt)))
            unlocked = [a for a in filt if a["thread"] != 1 and LOCK not in a.get("locks", [])]
            check(not unlocked, "%s: %d of %d worker accesses to warnings.filters without %s: %s" %
                  (label, len(unlocked), len(filt), LOCK, unlocked[:2]))
        depth = {}
        for s in r.sync(obj=LOCK):
            d = depth.get(s["thread"], 0) + (1 if s["kind"] == "acquire" else -1)
            check(d >= 0, "%s: %s released more than acquired in thread %d" % (label, LOCK, s["thread"]))
            depth[s["thread"]] = d
        check(depth and all(d == 0 for d in depth.values()),
              "%s: %s acquires and releases do not pair up: %s" % (label, LOCK, depth))
        print("ok: %s: %d acquires of %s, %d accesses to warnings.filters (%s); no finding" % (
            label, len(acquires), LOCK, len(filt), "filters in a context variable" if in_context
            else "all under the lock"))
    if not ran:
        print("skip: no interpreter of 3.14 or later")
        sys.exit(77)


main()
