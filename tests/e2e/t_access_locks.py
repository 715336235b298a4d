"""t_access_locks.py — accesses carry the lockset of their thread, and locks stored in module
globals and class attributes get their human names from the access hooks' name hints
(`app.lock`, `app.Registry._lock`); finalisation stops recording (no records of the interpreter
clearing module dicts), and a daemon thread still writing at exit is harmless.
"""
from t_access_lib import at, check, interpreters, run, top

SRC = """\
    import threading
    import time

    lock = threading.Lock()
    # a float: every `+= 1` stores a new object.  Two threads that lose an update store equal
    # ints, the same small-int object, and a store of the object a dict already holds fires no
    # dict watcher event (docs/limits.md): the test's count of six writes per site would miss it.
    counter = 0.0

    class Registry:
        _lock = threading.RLock()
        items = {}

    def worker(i):
        global counter
        for _ in range(3):
            with lock:
                counter += 1                     # LOCKED
            with Registry._lock:
                Registry.items[i] = counter      # RLOCKED
            counter += 1                         # UNLOCKED

    def daemon():
        global beat
        while True:
            beat = time.time()                   # DAEMON
            beating.set()
            time.sleep(0.001)

    beat = 0.0
    beating = threading.Event()
    threading.Thread(target=daemon, daemon=True).start()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()
    beating.wait()  # the daemon wrote at least once, however late it was scheduled
    print(len(Registry.items))   # counter itself may lose updates: that is the point
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout == "2\n", L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        locked = at(r.accesses("app.counter", "write"), SRC, "# LOCKED", "worker")
        check(len(locked) == 6, L + "6 locked writes: %d" % len(locked))
        check(all(x["locks"] == ["app.lock"] for x in locked),
              L + "writes under `with lock` hold app.lock: %s" % [x["locks"] for x in locked])
        rl = at(r.accesses("app.Registry.items", "write", var_kind="container"), SRC, "# RLOCKED")
        check(len(rl) == 6 and all(x["locks"] == ["app.Registry._lock"] for x in rl),
              L + "class-attribute RLock named app.Registry._lock: %s" % [x["locks"] for x in rl])
        un = at(r.accesses("app.counter", "write"), SRC, "# UNLOCKED", "worker")
        check(len(un) == 6 and all(x["locks"] == [] for x in un),
              L + "writes outside the lock hold nothing: %s" % [x["locks"] for x in un])
        # finalisation: the last records of the main thread are the program's, not the clearing
        # of module dicts by the interpreter (which would show as deletes without a Python stack)
        teardown = [x for x in r.accesses() if x["kind"] == "delete" and not x["stack"]]
        check(not teardown, L + "no access records from interpreter teardown: %s" % teardown[:3])
        d = at(r.accesses("app.beat", "write"), SRC, "# DAEMON", "daemon")
        check(d, L + "the daemon thread's writes are recorded while the program runs")
        print(L + "ok")


main()
