"""t_sync_locks.py — threading.Lock and RLock as acquire/release events.

Checks, on every interpreter with a hooks library: `with` on normal and exceptional exit, explicit
acquire/release across functions, failed non-blocking and timed acquires (hold nothing), RLock
depth, locks seen on accesses inside `with lock:`, lock names (global, class attribute, creation
site), FREE of a dropped lock, thread names, and KeyboardInterrupt in a blocking acquire.
"""
from t_sync_helpers import Run, check, interpreters

PROG = '''\
import os, signal, threading, time
lock = threading.Lock()
rlock = threading.RLock()
class Registry:
    guard = threading.Lock()
counter = 0
table = {}

def take():
    lock.acquire()

def give():
    lock.release()

def worker():
    global counter
    for _ in range(2):
        with lock:
            counter += 1
    try:
        with lock:
            raise ValueError("boom")
    except ValueError:
        pass
    take()
    counter += 1
    give()
    with rlock:
        with rlock:
            table["k"] = 1
    with Registry.guard:
        pass

def contender():
    print("trylock", lock.acquire(blocking=False))
    print("timed", lock.acquire(timeout=0.05))
    print("rtimed", rlock.acquire(timeout=0.05))
    counter_read = counter

t = threading.Thread(target=worker, name="worker-a")
t.start(); t.join()
lock.acquire(); rlock.acquire()
c = threading.Thread(target=contender, name="contender")
c.start(); c.join()
lock.release(); rlock.release()

def scoped():
    mine = threading.Lock()
    with mine:
        pass
scoped()

# KeyboardInterrupt while blocked in acquire still works.
blocked = threading.Lock(); blocked.acquire()
def asleep(t):
    with open("/proc/self/task/%d/stat" % t.native_id) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"
def interrupter():
    # SIGINT only once the main thread sleeps past `acquiring = True`: in blocked.acquire().
    # (A signal before its try block would kill the program instead.)
    while not (acquiring and asleep(threading.main_thread())):
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGINT)
acquiring = False
threading.Thread(target=interrupter, name="interrupter").start()
try:
    acquiring = True
    blocked.acquire()
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
try:
    threading.Lock().release()
except RuntimeError as e:
    print("RuntimeError", e)
print("counter", counter)
'''


def main():
    for label, py in interpreters():
        # every lock operation, none elided (events.c): this checks what the hooks see
        r = Run(py, "locks", PROG, label=label, env={"NOGILRACE_EVERY_EVENT": "1"})
        r.check_unchanged()
        check("interrupted\n" in r.proc.stdout and "counter 3" in r.proc.stdout,
              "%s output %r %r" % (label, r.proc.stdout, r.proc.stderr[-1500:]))
        check("trylock False" in r.proc.stdout and "timed False" in r.proc.stdout,
              "%s output %r" % (label, r.proc.stdout))
        w = r.thread_of("worker-a")
        c = r.thread_of("contender")

        # with (x2), with + exception (x1), take/give across functions (x1).
        acq = r.sync(kind="acquire", obj="locks.lock", thread=w)
        rel = r.sync(kind="release", obj="locks.lock", thread=w)
        check(len(acq) == 4 and len(rel) == 4,
              "%s: worker-a: 4 acquire/4 release of locks.lock, got %d/%d" %
              (label, len(acq), len(rel)))
        check(all(a["obj_kind"] == "lock" for a in acq), "%s: obj_kind %s" % (label, acq[0]))
        # The release of the exceptional exit happens (lock not held afterwards).
        check(acq[-1]["stack"] and any(f["function"] == "take" for f in acq[-1]["stack"]),
              "%s: last acquire should be in take(): %s" % (label, acq[-1]["stack"]))
        check(any(f["function"] == "give" for f in rel[-1]["stack"]),
              "%s: last release should be in give(): %s" % (label, rel[-1]["stack"]))

        # Accesses inside `with lock:` see the lock; the one between take() and give() too.
        writes = r.accesses(var="locks.counter", kind="write", thread=w)
        check(len(writes) == 3, "%s: 3 writes of locks.counter by worker-a, got %d" %
              (label, len(writes)))
        check(all(x["locks"] == ["locks.lock"] for x in writes),
              "%s: writes should hold locks.lock: %s" % (label, [x["locks"] for x in writes]))

        # Failed non-blocking and timed acquires hold nothing.
        check(not r.sync(kind="acquire", obj="locks.lock", thread=c),
              "%s: contender never holds locks.lock" % label)
        check(not r.sync(kind="acquire", obj="locks.rlock", thread=c),
              "%s: contender never holds locks.rlock" % label)
        reads = r.accesses(var="locks.counter", thread=c)
        check(reads and all(x["locks"] == [] for x in reads),
              "%s: contender's read holds no lock: %s" % (label, [x["locks"] for x in reads]))

        # RLock re-entrancy: two acquires, two releases, held during the write.
        ra = r.sync(kind="acquire", obj="locks.rlock", thread=w)
        rr = r.sync(kind="release", obj="locks.rlock", thread=w)
        check(len(ra) == 2 and len(rr) == 2 and ra[0]["obj_kind"] == "rlock",
              "%s: RLock acquire/release %d/%d" % (label, len(ra), len(rr)))
        tw = r.accesses(var="locks.table", thread=w) + [
            x for x in r.accesses(thread=w) if x["var"].startswith("locks.table")]
        check(tw and all("locks.rlock" in x["locks"] for x in tw if x["kind"] == "write"),
              "%s: table write under rlock: %s" % (label, [(x["kind"], x["locks"]) for x in tw]))
        check(len(rr) == 2 and rr[0]["locks"] == ["locks.rlock"] and rr[1]["locks"] == [],
              "%s: RLock still held after the inner release only: %s" %
              (label, [x["locks"] for x in rr]))

        # Class attribute name, creation-site name, FREE of a dropped lock.
        check(r.sync(kind="acquire", obj="locks.Registry.guard", thread=w),
              "%s: no acquire of locks.Registry.guard" % label)
        line = PROG.splitlines().index("    mine = threading.Lock()") + 1
        name = "<lock created at locks.py:%d>" % line
        site = r.sync(kind="acquire", obj=name, thread=1)
        check(len(site) == 1, "%s: one acquire of %r: %s" %
              (label, name, sorted({x["obj"] for x in r.sync(kind="acquire")})))
        free = r.sync(kind="free", obj=name)
        # (Names are resolved by object id = address, and addresses are reused: earlier objects
        # at the same address show the same name, so look for a FREE after the acquire.)
        check([x for x in free if x["seq"] > site[0]["seq"]], "%s: no free of the local lock" % label)
        print("ok", label)


main()
