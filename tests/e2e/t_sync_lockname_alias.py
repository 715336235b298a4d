"""t_sync_lockname_alias.py — a lock keeps the name of the global it was first stored under.

pytest-run-parallel copies the test module's globals into its own module's globals; the lock of
test_clean was then reported as `pytest_run_parallel.plugin._lock` (every store into a watched
namespace renamed it).  Here, on every interpreter with a hooks library: a module `home` defines
`_lock` and `_rlock`; the program copies home's globals into its own (as the plugin does),
imports `_lock` under another name, and puts it in a class attribute; threads then update a shared
global of home under each.  A module whose dict was freed (deleted from sys.modules, collected)
must not lend its name to the lock of a module imported after it.  Every acquire must carry the
defining module's name, and so must the lockset of the writes.
"""
import os

from t_sync_helpers import Run, check, interpreters

HOME = '''\
import threading
_lock = threading.Lock()
_rlock = threading.RLock()
total = 0

def add(n):
    global total
    with _lock:
        total += n
'''

GONE = '''\
import threading
_lock = threading.Lock()
state = 0
'''

FRESH = '''\
import threading
_lock = threading.Lock()
count = 0

def bump():
    global count
    with _lock:
        count += 1
'''

PROG = '''\
import gc, sys, threading
import home

# What pytest-run-parallel does with the test module's globals (plugin.py).
g = globals()
for k, v in vars(home).items():
    if k not in g:
        g[k] = v
from home import _lock as alias_lock

class Holder:
    guard = home._rlock

# A module imported, used, then deleted and collected: its dict is freed.
import gone
with gone._lock:
    gone.state += 1
del sys.modules["gone"], gone
gc.collect()
import fresh

phase = threading.Barrier(4)

def worker():
    for i in range(20):
        home.add(1)
        with alias_lock:
            home.total += 1
        fresh.bump()
    # home._rlock is another lock than home._lock: updates of home.total under one and under
    # the other could lose each other's increments (total < 240).  They run in turn instead.
    phase.wait()
    for i in range(20):
        with Holder.guard:
            home.total += 1

ts = [threading.Thread(target=worker, name="w%d" % i) for i in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("total", home.total, "count", fresh.count)
'''


def main():
    for label, py in interpreters():
        # The modules sit next to the program (written before Run starts it).
        d = os.path.join(os.environ.get("NGR_TMP", "."), "lockname-%s" % label)
        os.makedirs(d, exist_ok=True)
        for name, src in (("home", HOME), ("gone", GONE), ("fresh", FRESH)):
            with open(os.path.join(d, name + ".py"), "w") as f:
                f.write(src)
        # every lock operation, none elided (events.c): acquires are counted
        r = Run(py, "lockname", PROG, label=label, env={"NOGILRACE_EVERY_EVENT": "1"})
        r.check_unchanged()
        check(r.proc.stdout == "total 240 count 80\n",
              "%s: output %r %r" % (label, r.proc.stdout, r.proc.stderr[-1500:]))
        workers = {r.thread_of("w%d" % i) for i in range(4)}
        acq = [x for x in r.sync(kind="acquire") if x["thread"] in workers]
        names = sorted({x["obj"] for x in acq})
        print(label, "locks acquired by the workers:", names)
        want = {"home._lock", "home._rlock", "fresh._lock"}
        check(want <= set(names),
              "%s: acquires should name home._lock, home._rlock, fresh._lock; got %s"
              % (label, names))
        bad = [n for n in names if n.startswith(("lockname.", "gone."))]
        check(not bad, "%s: locks named after an alias or a freed module: %s" % (label, bad))
        for n, count in (("home._lock", 160), ("home._rlock", 80), ("fresh._lock", 80)):
            got = len([x for x in acq if x["obj"] == n])
            check(got == count, "%s: %d acquires of %s by the workers, want %d" %
                  (label, got, n, count))
        # The lockset of the writes carries the same names.
        writes = [x for x in r.accesses(var="home.total", kind="write") if x["thread"] in workers]
        held = sorted({l for x in writes for l in x["locks"]})
        check(writes and set(held) == {"home._lock", "home._rlock"},
              "%s: locks held by the writes of home.total: %s" % (label, held))
        fw = [x for x in r.accesses(var="fresh.count", kind="write") if x["thread"] in workers]
        check(fw and all(x["locks"] == ["fresh._lock"] for x in fw),
              "%s: writes of fresh.count should hold fresh._lock: %s" %
              (label, sorted({tuple(x["locks"]) for x in fw})))
        print("ok", label)


main()
