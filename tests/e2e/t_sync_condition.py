"""t_sync_condition.py — Condition, Semaphore, BoundedSemaphore, Event and Barrier as
happens-before edges (SEND in the source thread, RECV in the destination, same object), and
Condition's internal waiter locks never showing up as locks held.
"""
from t_sync_helpers import Run, check, interpreters

PROG = '''\
import threading
cond = threading.Condition()                  # RLock inside
plain_cond = threading.Condition(threading.Lock())
sem = threading.Semaphore(0)
bsem = threading.BoundedSemaphore(1)
ready = threading.Event()
barrier = threading.Barrier(2)
waiting = threading.Event()
items = []
shared = {}

def consumer():
    with cond:
        while not items:
            waiting.set()                     # set holding cond: released only in wait()
            cond.wait()
        shared["got"] = items.pop()
    with plain_cond:
        print("timed out", plain_cond.wait(0.05) is False)
    sem.acquire()
    shared["after_sem"] = 1
    ready.wait()
    barrier.wait()

def producer():
    waiting.wait()
    with cond:                                # the consumer is in cond.wait() by now
        items.append(1)
        cond.notify()
    sem.release()
    ready.set()
    barrier.wait()

c = threading.Thread(target=consumer, name="consumer")
p = threading.Thread(target=producer, name="producer")
c.start(); p.start(); c.join(); p.join()
with bsem:
    pass
try:
    bsem.release()
except ValueError:
    print("over-release refused")
print(shared)

glock = threading.Lock()
gcond = threading.Condition(glock)            # glock keeps its own name
class Box:
    cv = threading.Condition()                # a class attribute names its lock too
extra = {}
with gcond:
    extra["g"] = 1
with Box.cv:
    extra["b"] = 1

def short_lived():
    ev = threading.Event()
    ev.set()
for _ in range(3):
    short_lived()
'''


def main():
    for label, py in interpreters():
        r = Run(py, "cond", PROG, label=label)
        r.check_unchanged()
        check("{'got': 1, 'after_sem': 1}" in r.proc.stdout and "timed out True" in r.proc.stdout,
              "%s output %r %r" % (label, r.proc.stdout, r.proc.stderr[-1500:]))
        c = r.thread_of("consumer")
        p = r.thread_of("producer")

        # notify -> wait return, on the Condition itself.
        check(r.edge("cond.cond", p, c), "%s: no SEND(producer)->RECV(consumer) on cond.cond: %s"
              % (label, [(x["thread"], x["kind"]) for x in r.sync(obj="cond.cond")]))
        # wait() on an RLock-based Condition releases the whole depth and restores it.
        ra = r.sync(kind="release_all", thread=c)
        aa = r.sync(kind="acquire_all", thread=c)
        check(ra and aa and ra[0]["count"] == 1 and aa[0]["count"] == 1 and
              ra[0]["obj"] == aa[0]["obj"] and ra[0]["obj_kind"] == "rlock",
              "%s: release_all/acquire_all on the Condition's RLock: %s %s" % (label, ra, aa))
        # The write after wait() holds the Condition's lock, and nothing else; that lock is
        # named after the Condition, not after its creation inside Condition.__init__.
        check(ra[0]["obj"] == "cond.cond", "%s: the Condition's RLock is named %r" % (label, ra[0]["obj"]))
        got = [x for x in r.accesses(thread=c) if x["var"] == "cond.shared" and x["kind"] == "write"]
        check(got and got[0]["locks"] == ["cond.cond"],
              "%s: write of shared['got'] holds %s" % (label, got and got[0]["locks"]))
        pl = r.sync(kind="acquire", obj="cond.plain_cond", thread=c)
        check(pl and pl[0]["obj_kind"] == "lock",
              "%s: Condition(Lock()) acquired as cond.plain_cond: %s" % (
                  label, sorted({x["obj"] for x in r.sync(kind="acquire", thread=c)})))
        # Condition(glock) with glock a global stored first: glock keeps its name; a Condition
        # in a class attribute names its lock after the attribute.
        for key, want in (("'g'", ["cond.glock"]), ("'b'", ["cond.Box.cv"])):
            w = r.accesses(var="cond.extra", kind="write", key=key)
            check(w and w[0]["locks"] == want, "%s: extra[%s] written holding %s, want %s" % (
                label, key, w and w[0]["locks"], want))
        # Waiter locks: no acquire/release of a lock created inside threading's Condition.wait,
        # and the notifier's lockset while notifying is only the Condition's lock.
        send = r.sync(kind="send", obj="cond.cond", thread=p)[0]
        check(send["locks"] == [ra[0]["obj"]], "%s: notifier holds %s" % (label, send["locks"]))
        held = {lk for x in r.records if x.get("type") in ("sync", "access") for lk in x["locks"]}
        # (waiter locks are never named: an unnamed object reads "<object 0x...>"/"<lock 0x...>")
        check(not [h for h in held if " 0x" in h],
              "%s: an unnamed (waiter?) lock appears held: %s" % (label, held))
        check(not [x for x in r.sync(kind="acquire") if " 0x" in x["obj"]],
              "%s: acquire of an unnamed lock" % label)
        # A timed-out wait is no edge.
        check(not r.sync(kind="recv", obj="cond.plain_cond"),
              "%s: timed-out wait gave a RECV" % label)

        # Semaphore release -> acquire, Event set -> wait, Barrier both ways.
        check(r.edge("cond.sem", p, c), "%s: no semaphore edge" % label)
        check(r.sync(obj="cond.sem")[0]["obj_kind"] == "semaphore", "%s: sem kind" % label)
        check(r.edge("cond.ready", p, c), "%s: no event edge" % label)
        check(r.edge("cond.barrier", p, c) and r.edge("cond.barrier", c, p),
              "%s: no barrier edges" % label)
        check(r.sync(obj="cond.ready")[0]["obj_kind"] == "event", "%s: event kind" % label)
        check(r.sync(obj="cond.barrier")[0]["obj_kind"] == "barrier", "%s: barrier kind" % label)
        # BoundedSemaphore: acquire by `with`, then release, from the main thread.
        b = r.sync(obj="cond.bsem", thread=1)
        check([x["kind"] for x in b][:2] == ["recv", "send"],
              "%s: bsem events %s" % (label, [x["kind"] for x in b]))
        # Semaphores and Events are edges, never locks held.
        check(not [h for h in held if h in ("cond.sem", "cond.bsem", "cond.ready")],
              "%s: semaphore/event in a lockset: %s" % (label, held))
        # Short-lived Python-level objects: each gets its own id (named after its creation site
        # even when the address is reused) and a FREE when it dies.
        line = PROG.splitlines().index("    ev = threading.Event()") + 1
        name = "<Event created at cond.py:%d>" % line
        sends = r.sync(kind="send", obj=name, thread=1)
        frees = r.sync(kind="free", obj=name)
        check(len(sends) == 3 and len(frees) == 3,
              "%s: 3 sends and 3 frees of %s, got %d/%d" % (label, name, len(sends), len(frees)))
        check(all(f["seq"] > s_["seq"] for s_, f in zip(sends, frees)),
              "%s: each FREE after its SEND" % label)
        print("ok", label)


main()
