"""t_access_repeats.py — hot loops are written once and sampled, and what is found does not change.

The hooks drop an access that repeats one the thread recorded (same instruction, variable, key and
kind) with no synchronisation of the thread written in between, keeping a sample (the 1st, 2nd,
4th ... repeat); the shim writes nothing for a lock its holder releases and takes back with nothing
recorded in between, and marks the lock as dropped before the next record it writes.  On the real
interpreter, for loops of 20,000 rounds in several threads:

* `with lock: hits += 1` — a few dozen records per thread instead of 40,000, the lock's records
  too (at most 300 of each per thread); NOGILRACE_EVERY_EVENT=1 writes them all (so the filters are what made the difference);
* the findings are those of the same program with NOGILRACE_EVERY_EVENT=1, for each of: the locked
  loop (none), an unlocked `counter += 1` (lost-update, observed), the same through a function
  called each round (a new activation each time), a lock released between the read and the write
  (lost-update: the dropped lock is seen even though its rounds were not written), a lazily filled
  cache with and without a lock (check-then-act only without);
* output and exit status are those of the untraced program;
* a membership test dropped as a repeat is what a later write of its activation gets before it,
  not the read of the same item that followed the test: `if K in D: x = D[K]` then, at the sixth
  round only, `D[K] = x + 1` is a check-then-act window (with the read, the analyzer took it for
  a lost update whenever the program ran the check about as often as the act).
"""
import json
import os
import subprocess

from t_access_lib import check, interpreters, run, untraced

SRC = """\
    import sys
    import threading

    ROUNDS = 20000
    lock = threading.Lock()
    hits = total = counter = n = 0
    balance = 10 ** 9
    CACHE = {}

    def locked(i):
        global hits, total
        with lock:
            hits += 1
            total += i

    def unlocked(i):
        global counter
        counter += 1

    def bump():
        global n
        n += 1

    def through_call(i):
        bump()

    def early(i):
        global balance
        with lock:
            current = balance
        with lock:
            balance = current - 1

    def lazy_locked(i):
        with lock:
            if i % 50 not in CACHE:
                CACHE[i % 50] = i

    def lazy(i):
        if i % 50 not in CACHE:
            CACHE[i % 50] = i

    def worker(body, start):
        start.wait()
        for i in range(ROUNDS):
            body(i)

    body = globals()[sys.argv[1]]
    start = threading.Barrier(3)
    ts = [threading.Thread(target=worker, args=(body, start), name="w%d" % k) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(sys.argv[1], hits, total > 0, len(CACHE))
"""

# mode: the findings wanted, as (kind, variable) pairs
MODES = {
    "locked": set(),
    "unlocked": {("lost-update", "app.counter")},
    "through_call": {("lost-update", "app.n")},
    "early": {("lost-update", "app.balance")},
    "lazy_locked": set(),
    "lazy": {("check-then-act", "app.CACHE")},
}


def report(r):
    tr = os.path.join(r.dir, "traces")
    p = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json", tr],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode in (0, 66), "report exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    return json.loads(p.stdout)["races"]


def found(races):
    """{(kind, variable): observed} of a report (a keyed variable is named by its container)."""
    out = {}
    for x in races:
        k = (x["kind"], x["variable"].split("[")[0])
        out[k] = out.get(k, False) or x.get("observed", False)
    return out


def per_thread(r, var, kind=None):
    counts = {}
    for x in r.accesses(var, kind):
        if x["thread_name"].startswith("w"):
            counts[x["thread_name"]] = counts.get(x["thread_name"], 0) + 1
    return counts


def lock_records(r):
    counts = {}
    for x in r.records:
        if x.get("type") == "sync" and x.get("thread_name", "").startswith("w") and x["kind"] in ("acquire", "release"):
            counts[x["thread_name"]] = counts.get(x["thread_name"], 0) + 1
    return counts


CHECKED = """\
    D = {"k": 0}

    def f():
        for i in range(9):
            if "k" in D:                 # CHECK
                x = D["k"]               # READ
                if i == 5:
                    D["k"] = x + 1       # ACT

    f()
    print(D)
"""


def check_pending_test(L, py):
    r = run(CHECKED, py)
    check(r.stdout == "{'k': 1}\n", L + "checked: output %r %s" % (r.stdout, r.stderr[-2000:]))
    recs = [x for x in r.accesses("app.D") if x["stack"] and x["stack"][0]["function"] == "f"]
    acts = [i for i, x in enumerate(recs) if x["kind"] == "write"]
    check(len(acts) == 1 and acts[0] > 0, L + "checked: one write of D['k'] in f: %s" % r.show("app.D"))
    before = recs[acts[0] - 1]
    check(before["kind"] == "contains" and before["frame"] == recs[acts[0]]["frame"],
          L + "checked: the write is preceded by its activation's membership test, got %s\n%s"
          % (before["kind"], r.show("app.D")))


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        check_pending_test(L, py)
        for mode, want in MODES.items():
            plain = untraced(SRC.replace("sys.argv[1]", repr(mode)), py)
            r = run(SRC, py, args=(mode,))
            check(r.stdout == plain.stdout, L + "%s: traced output %r, untraced %r" % (mode, r.stdout, plain.stdout))
            full = run(SRC, py, args=(mode,), env={"NOGILRACE_EVERY_EVENT": "1"})
            got, got_full = found(report(r)), found(report(full))
            check(set(got) == want, L + "%s: findings %s, want %s" % (mode, sorted(got), sorted(want)))
            check(got == got_full, L + "%s: findings %s, with every event %s" % (mode, got, got_full))
            if mode in ("unlocked", "through_call"):
                check(all(got.values()), L + "%s: the lost update is observed: %s" % (mode, got))
            if mode == "locked":
                few, many = per_thread(r, "app.hits"), per_thread(full, "app.hits")
                check(len(few) == 3 and all(c <= 300 for c in few.values()),
                      L + "locked: hits records per worker %s (want a sample, at most 300)" % few)
                check(len(many) == 3 and all(c >= 40000 for c in many.values()),
                      L + "locked, every event: hits records per worker %s (want 40,000)" % many)
                lk, lk_full = lock_records(r), lock_records(full)
                check(all(c <= 300 for c in lk.values()),
                      L + "locked: lock records per worker %s (want at most 300)" % lk)
                check(len(lk_full) == 3 and all(c >= 40000 for c in lk_full.values()),
                      L + "locked, every event: lock records per worker %s" % lk_full)
                print(L + "locked: hits records per worker %s (every event: %s), lock records %s (%s)"
                      % (few, many, lk, lk_full))
            if mode == "unlocked":
                few = per_thread(r, "app.counter", "write")
                check(len(few) == 3 and all(2 <= c <= 100 for c in few.values()),
                      L + "unlocked: counter writes per worker %s (want a sample)" % few)
        print(L + "ok")


main()
