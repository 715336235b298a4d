"""t_sync_import_lock.py — the import lock (_imp.acquire_lock / _imp.release_lock) is a lock.

importlib._bootstrap reads and writes `_module_locks` only under the interpreter's import lock, a
C recursive mutex taken by _imp.acquire_lock(); the weakref callback that drops a dead entry takes
it too, and so does _find_spec around every finder (sys.path_importer_cache).  Unseen, two threads
importing one module for the first time reported check-then-act / lost-update on
`_frozen_importlib._module_locks['mod']` (gh-128384's warnings program, about 1 run in 40).

Here 16 threads, released together by a Barrier, import in each of 8 rounds a fresh module they
share with one other thread (the collision, every round) and one of their own.  On every
interpreter with a hooks library: no finding on _module_locks or sys.path_importer_cache; every
access to _module_locks holds "<import lock>" (an rlock), taken and released around it in the
same thread; the collision did happen (both threads of a pair touched the module's key).  A
second program checks the depth: acquire_lock twice, release once (still held), release again
(not held), and a release_lock without the lock (RuntimeError) writes no RELEASE.
"""
import json
import os
import subprocess
from collections import Counter, defaultdict

from t_sync_helpers import Run, check, interpreters

LOCK = "<import lock>"

IMPORTS = '''\
import os, sys, threading
HERE = os.path.dirname(os.path.abspath(__file__))
MODS = os.path.join(HERE, "mods")
N, ROUNDS = 16, 8
os.makedirs(MODS, exist_ok=True)
for r in range(ROUNDS):
    for i in range(N):
        for name in ("pair_%d_%d" % (r, i // 2), "own_%d_%d" % (r, i)):
            with open(os.path.join(MODS, name + ".py"), "w") as f:
                f.write("VALUE = %d\\n" % len(name))
sys.path.insert(0, MODS)
barrier = threading.Barrier(N)
results = []
results_lock = threading.Lock()

def worker(i):
    s = 0
    for r in range(ROUNDS):
        barrier.wait()
        s += __import__("pair_%d_%d" % (r, i // 2)).VALUE
        s += __import__("own_%d_%d" % (r, i)).VALUE
    with results_lock:
        results.append(s)

threads = [threading.Thread(target=worker, args=(i,), name="imp-%d" % i) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(results), sum(results))
'''

DEPTH = '''\
import _imp
state = 0
_imp.acquire_lock()
_imp.acquire_lock()
_imp.release_lock()
state = 1          # still held: depth 1
_imp.release_lock()
state = 2          # not held
try:
    _imp.release_lock()
except RuntimeError as e:
    print("RuntimeError", e)
state = 3
print(state)
'''


def report_json(tracedir):
    rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json", tracedir],
                         capture_output=True, text=True, timeout=300)
    check(rep.returncode in (0, 66), "report exited %d: %s" % (rep.returncode, rep.stderr[-2000:]))
    return json.loads(rep.stdout)


def check_imports(label, py):
    L = "[%s imports] " % label
    r = Run(py, "imports", IMPORTS, label=label)
    r.check_unchanged()
    check(r.proc.stdout == "16 %d\n" % (8 * sum(len("pair_0_0") + len("own_0_%d" % i) for i in range(16))),
          L + "output %r, stderr %s" % (r.proc.stdout, r.proc.stderr[-2000:]))

    races = report_json(r.tracedir)["races"]
    bad = [f for f in races
           if (f.get("var_name") or "") in ("_frozen_importlib._module_locks", "sys.path_importer_cache")]
    check(not bad, L + "findings under the import lock: %s" %
          ["%s %s" % (f.get("kind"), f.get("variable")) for f in bad])

    syncs = r.sync(obj=LOCK)
    check(syncs, L + "no sync event on %s" % LOCK)
    check({s["obj_kind"] for s in syncs} == {"rlock"}, L + "kinds %s" % {s["obj_kind"] for s in syncs})
    per = defaultdict(Counter)
    for s in syncs:
        per[s["thread"]][s["kind"]] += 1
    for th, c in per.items():
        check(c["acquire"] == c["release"] and c["acquire"] > 0 and set(c) == {"acquire", "release"},
              L + "thread %d: %s on %s" % (th, dict(c), LOCK))

    # Replay each thread's stream: accesses to _module_locks come between an acquire and its release.
    depth = Counter()
    keys = defaultdict(set)
    n = 0
    for rec in r.records:
        th = rec.get("thread")
        if rec["type"] == "sync" and rec["obj"] == LOCK:
            depth[th] += 1 if rec["kind"] == "acquire" else -1
            check(depth[th] >= 0, L + "release without acquire in thread %d" % th)
        elif rec["type"] == "access" and rec["var"] == "_frozen_importlib._module_locks":
            n += 1
            check(depth[th] > 0 and LOCK in rec["locks"],
                  L + "access not under the import lock: %s" % json.dumps(rec)[:600])
            if rec["key"]:
                keys[rec["key"]].add(th)
    check(n >= 16 * 8 * 2, L + "only %d accesses to _module_locks" % n)
    shared = [k for k, ths in keys.items() if k.startswith("'pair_") and len(ths) >= 2]
    check(len(shared) >= 8, L + "the pair modules' keys were not touched by two threads: %s" %
          {k: sorted(v) for k, v in keys.items() if k.startswith("'pair_")})
    print(L + "ok: %d accesses to _module_locks under %s, %d keys touched by two threads, %d lock events"
          % (n, LOCK, len(shared), len(syncs)))


def check_depth(label, py):
    L = "[%s depth] " % label
    r = Run(py, "depth", DEPTH, label=label, env={"NOGILRACE_EVERY_EVENT": "1"})  # no elided lock rounds
    r.check_unchanged()
    check(r.proc.stdout == "RuntimeError not holding the import lock\n3\n", L + "output %r" % r.proc.stdout)
    main = [s for s in r.sync(obj=LOCK, thread=1) if s["stack"] and s["stack"][0]["file"] == r.prog]
    check([s["kind"] for s in main] == ["acquire", "acquire", "release", "release"],
          L + "events from the program: %s" % [(s["kind"], s["stack"][0]["line"]) for s in main])
    writes = {}
    for a in r.accesses(var="depth.state", kind="write"):
        writes[a["stack"][0]["line"]] = LOCK in a["locks"]
    check(writes == {2: False, 6: True, 8: False, 13: False}, L + "state writes (line: held) %s" % writes)
    print(L + "ok")


for label, py in interpreters():
    check_depth(label, py)
    check_imports(label, py)
