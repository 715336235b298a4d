"""t_access_cells.py — closure variables shared between threads (issue #13, "objects shared at any
depth"): a `nonlocal` variable is a cell, read by LOAD_DEREF and written by STORE_DEREF; the hooks
trace a cell from the moment a second thread touches it, as a variable of kind `closure` named
after the function that owns it (`app.main.<locals>.count`).

* counter: three threads `count += 1` through `nonlocal count`: reads and writes of the cell by
  every worker, and the report has an observed lost update on it;
* locked: the same under one lock: recorded, nothing reported;
* solo: closures whose cells only ever one thread uses (in the main thread and in a worker):
  no record at all;
* lazy: `if cache is None: cache = make()` through `nonlocal cache` in several threads: a
  check-then-act on the cell;
* deco: a decorator's wrapper calling `func` from its closure in four threads, a `super()` call
  (the `__class__` cell): nothing recorded;
* rebind: a closure variable holding a function is code (its read site is switched off), until
  another thread rebinds it: that store is a write, and the read site, back on, records the next
  read;
* constant: a variable bound once and only read (call 1) has its read site switched off; in a
  second call of the same function, whose variable another thread rebinds, the site is back on
  (the owner's `limit = 10` turned it on): the reader's reads are recorded, with the writer's
  stores;
* classbody: a class body reading an enclosing function's variable (LOAD_FROM_DICT_OR_DEREF)
  reads its cell; the class body, which receives the cell through `build`, shares it first, and
  the name is still main's (main stored into it: `limit = 0`), not build's.

Every program prints the same and exits the same traced as untraced.
"""
import json
import os
import subprocess

from t_access_lib import at, check, interpreters, run, top, untraced

PROGRAMS = {
    "counter": """\
        import threading

        def main():
            count = 0
            start = threading.Barrier(3)
            def w():
                nonlocal count
                start.wait()
                for _ in range(2000):
                    count += 1                      # BUMP
            ts = [threading.Thread(target=w, name="w%d" % k) for k in range(3)]
            for t in ts: t.start()
            for t in ts: t.join()
            print(0 < count <= 6000)

        main()
    """,
    "locked": """\
        import threading

        def main():
            count = 0
            lock = threading.Lock()
            start = threading.Barrier(3)
            def w():
                nonlocal count
                start.wait()
                for _ in range(2000):
                    with lock:
                        count += 1                  # BUMP
            ts = [threading.Thread(target=w, name="w%d" % k) for k in range(3)]
            for t in ts: t.start()
            for t in ts: t.join()
            print(count)

        main()
    """,
    "solo": """\
        import threading

        def solo(tag):
            n = 0
            items = []
            def inc():
                nonlocal n
                n += 1                              # SOLO
                items.append(n)
            for _ in range(500):
                inc()
            return tag, n, len(items)

        out = []
        t = threading.Thread(target=lambda: out.append(solo("thread")), name="w0")
        t.start()
        t.join()
        out.append(solo("main"))
        print(sorted(out))
    """,
    "lazy": """\
        import threading

        def main():
            cache = None
            made = []
            start = threading.Barrier(4)
            def make():
                made.append(1)
                return {"ready": True}
            def get():
                nonlocal cache
                if cache is None:                   # CHECK
                    cache = make()                  # ACT
                return cache
            def w():
                start.wait()
                for _ in range(50):
                    get()
            ts = [threading.Thread(target=w, name="w%d" % k) for k in range(4)]
            for t in ts: t.start()
            for t in ts: t.join()
            print(get(), 1 <= len(made) <= 4)

        main()
    """,
    "deco": """\
        import functools
        import threading

        def deco(func):
            @functools.wraps(func)
            def wrapper(*args):
                return func(*args)                  # FUNC
            return wrapper

        @deco
        def work(x):
            return x + 1

        class Base:
            def __init__(self):
                self.v = 1
        class Child(Base):
            def __init__(self):
                super().__init__()                  # SUPER

        def w(out, k):
            s = 0
            for i in range(3000):
                s += work(i)
                Child()
            out[k] = s

        out = [0] * 4
        ts = [threading.Thread(target=w, args=(out, k), name="w%d" % k) for k in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        print(out)
    """,
    "rebind": """\
        import threading

        def first():
            return 1
        def second():
            return 2

        def main():
            handler = first
            seen = []
            called, swapped = threading.Event(), threading.Event()
            def caller():
                for step in range(2):
                    seen.append(handler())          # CALL
                    if step == 0:
                        called.set()
                        swapped.wait()
            def swapper():
                nonlocal handler
                called.wait()
                handler = second                    # SWAP
                swapped.set()
            ts = [threading.Thread(target=caller, name="w0"), threading.Thread(target=swapper, name="w1")]
            for t in ts: t.start()
            for t in ts: t.join()
            print(seen)

        main()
    """,
    "constant": """\
        import threading

        def run(call, mutate):
            limit = 10
            seen = []
            start = threading.Barrier(2)
            def reader():
                start.wait()
                for _ in range(300):
                    seen.append(limit)              # READ
            def writer():
                nonlocal limit
                start.wait()
                for i in range(300):
                    if mutate:
                        limit = i                   # WRITE
            ts = [threading.Thread(target=reader, name="r%d" % call),
                  threading.Thread(target=writer, name="w%d" % call)]
            for t in ts: t.start()
            for t in ts: t.join()
            return len(seen)

        print(run(1, False), run(2, True))
    """,
    "classbody": """\
        import threading

        def main():
            limit = 0
            built = threading.Event()
            def build():
                class Box:
                    lim = limit                     # CLASSBODY
                return Box.lim
            def bump():
                nonlocal limit
                limit += 1                          # RAISE
            def builder():
                build()        # the first other thread to touch the cell: from the class body
                built.set()
                for _ in range(200):
                    build()
            def bumper():
                built.wait()
                for _ in range(200):
                    bump()
            ts = [threading.Thread(target=builder, name="w0"), threading.Thread(target=bumper, name="w1")]
            for t in ts: t.start()
            for t in ts: t.join()
            print(limit)

        main()
    """,
}


def report(r):
    p = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json", os.path.join(r.dir, "traces")],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode in (0, 66), "report exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    return json.loads(p.stdout)["races"]


def on(races, var):
    """{kind: observed} of the findings on variable `var`."""
    out = {}
    for x in races:
        if x["var_name"] == var:
            out[x["kind"]] = out.get(x["kind"], False) or x["observed"]
    return out


def workers(recs):
    return {x["thread_name"] for x in recs if x["thread_name"].startswith("w")}


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        runs = {}
        for name, src in PROGRAMS.items():
            plain = untraced(src, py)
            r = run(src, py, expect_rc=plain.returncode)
            check(r.stdout == plain.stdout,
                  L + "%s: output %r traced, %r untraced\n%s" % (name, r.stdout, plain.stdout, r.stderr[-2000:]))
            runs[name] = r
        src = PROGRAMS

        # counter: every worker reads and writes the cell at the += line; an observed lost update
        r = runs["counter"]
        var = "app.main.<locals>.count"
        cell = r.accesses(var)
        check(cell and all(x["var_kind"] == "closure" for x in cell),
              L + "counter: accesses of %s as a closure variable:\n%s" % (var, r.show()))
        for kind in ("read", "write"):
            bumps = at(r.accesses(var, kind), src["counter"], "# BUMP", "main.<locals>.w")
            check(len(workers(bumps)) == 3,
                  L + "counter: %ss of the cell at the += line by all three workers:\n%s" % (kind, r.show()))
        found = on(report(r), var)
        check(found == {"lost-update": True}, L + "counter: findings on %s: %s" % (var, found))

        # locked: recorded, quiet
        r = runs["locked"]
        check(len(workers(r.accesses(var, "write"))) == 3,
              L + "locked: writes of the cell by the three workers:\n%s" % r.show())
        found = on(report(r), var)
        check(found == {}, L + "locked: findings on %s: %s" % (var, found))

        # solo: no record of a closure variable at all
        r = runs["solo"]
        cells = [x for x in r.accesses() if ".<locals>." in x["var"] or x["var_kind"] == "closure"]
        check(not cells, L + "solo: closure variables used by one thread were recorded:\n%s" % r.show())

        # lazy: check-then-act on the cell
        r = runs["lazy"]
        var = "app.main.<locals>.cache"
        acts = at(r.accesses(var, "write"), src["lazy"], "# ACT", "main.<locals>.get")
        check(acts and all(x["var_kind"] == "closure" for x in acts),
              L + "lazy: the cell's write in get():\n%s" % r.show())
        found = on(report(r), var)
        check(set(found) == {"check-then-act"}, L + "lazy: findings on %s: %s" % (var, found))

        # deco: the decorator's func cell and super()'s __class__ cell are code: never recorded
        r = runs["deco"]
        code = [x for x in r.accesses() if x["var"].endswith((".func", ".__class__"))
                or x["var_kind"] == "closure"]
        check(not code, L + "deco: cells holding code were recorded:\n%s" % r.show())

        # rebind: the swap is a write, the read after it is recorded
        r = runs["rebind"]
        var = "app.main.<locals>.handler"
        swaps = at(r.accesses(var, "write"), src["rebind"], "# SWAP", "main.<locals>.swapper")
        check(len(swaps) == 1, L + "rebind: the other thread's rebinding as a write:\n%s" % r.show())
        # the call site was switched off at its first run (a function); the rebinding turned it
        # back on: exactly the second call's read
        calls = at(r.accesses(var, "read"), src["rebind"], "# CALL", "main.<locals>.caller")
        check(len(calls) == 1, L + "rebind: the read after the rebinding only:\n%s" % r.show())

        # constant: the second call's reads are recorded, though the site was switched off in the
        # first (one variable per cell: the calls' names are the same, the threads tell them apart)
        r = runs["constant"]
        var = "app.run.<locals>.limit"
        reads = at(r.accesses(var, "read"), src["constant"], "# READ", "run.<locals>.reader")
        check({x["thread_name"] for x in reads} == {"r1", "r2"},
              L + "constant: reads of %s by both calls' readers:\n%s" % (var, r.show()))
        writes = at(r.accesses(var, "write"), src["constant"], "# WRITE", "run.<locals>.writer")
        check({x["thread_name"] for x in writes} == {"w2"},
              L + "constant: the second call's stores:\n%s" % r.show())

        # classbody: the class body's read of the enclosing function's variable, named after main
        r = runs["classbody"]
        var = "app.main.<locals>.limit"
        reads = at(r.accesses(var, "read"), src["classbody"], "# CLASSBODY")
        check(reads and all(top(x)["function"] == "main.<locals>.build.<locals>.Box" for x in reads),
              L + "classbody: reads of %s in the class body:\n%s" % (var, r.show()))
        check(len(workers(r.accesses(var, "write"))) == 1 and
              not [x for x in r.accesses() if x["var"].endswith(".limit") and x["var"] != var],
              L + "classbody: every access of main's limit under its name:\n%s" % r.show())
        print(L + "ok")


main()
