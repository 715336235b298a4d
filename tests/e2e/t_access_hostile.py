"""t_access_hostile.py — the hooks never run Python code on user objects and never change what the
program computes, whatever it throws at them.

Each case prints everything a hook could disturb (how often __hash__/__eq__/__del__/__repr__/
__missing__/__getattr__ ran, results) and must print exactly the same traced and untraced, exit 0,
and still trace what can be traced:
  * keys with hostile __hash__/__eq__/__del__/__repr__, one colliding with a global's name hash
    inside a module dict (so a careless lookup by the hooks would call __eq__);
  * a dict subclass with __missing__ as a module-level container;
  * a module replaced in sys.modules by an object with __getattr__, and a module subclass;
  * code objects made by exec/compile, run with module globals and with throwaway namespaces;
  * addresses reused: module-level containers replaced and freed while local containers take
    their place, a class with a container attribute deleted.
"""
from t_access_lib import at, check, interpreters, run, untraced

SRC = """\
    import gc
    import sys
    import threading

    CALLS = {"hash": 0, "eq": 0, "del": 0, "repr": 0, "missing": 0, "getattr": 0}

    class Hostile:
        def __init__(self, h):
            self.h = h
        def __hash__(self):
            CALLS["hash"] += 1
            return self.h
        def __eq__(self, other):
            CALLS["eq"] += 1
            return self is other
        def __repr__(self):
            CALLS["repr"] += 1
            raise RuntimeError("repr must not be called")
        def __del__(self):
            CALLS["del"] += 1

    counter = 0
    cache = {}

    class Counts(dict):
        def __missing__(self, key):
            CALLS["missing"] += 1
            return 0

    counts = Counts()

    class FakeModule:
        def __getattr__(self, name):
            CALLS["getattr"] += 1
            return 42

    sys.modules["fakemod"] = FakeModule()
    import fakemod

    import types
    class LoudModule(types.ModuleType):
        def __getattr__(self, name):
            CALLS["getattr"] += 1
            return 7
    loud = LoudModule("loud")
    loud.real = 1
    sys.modules["loud"] = loud

    # a key whose hash collides with the name "late" sits in the module dict before "late" does:
    # every lookup of "late" in this dict calls Hostile.__eq__ (the program's own LOAD_GLOBAL does)
    globals()[Hostile(hash("late"))] = "collider"
    late = 0

    DYN = compile("global counter\\ncounter += 1  # EXEC", "<dyn>", "exec")

    class Holder:
        table = {}

    def worker(i):
        global counter
        for j in range(50):
            h = Hostile(j % 5)
            cache[h] = j                       # HKEY
            _ = h in cache
            _ = cache.get(h)
            counts["k%d" % (j % 3)] += 1       # MISSING
            _ = fakemod.anything               # FAKEMOD
            _ = loud.real + loud.virtual       # LOUD
            counter += 1                       # COUNTER
            _ = late                           # LATE
            exec(DYN, globals())
            exec("x = 1\\ny = x + 1", {"__name__": "scratch%d" % (j % 2)})
            exec("z = 3", {})
        for k in list(cache):
            pass

    def churn():
        global churned
        for j in range(300):
            churned = {"n": j}                # old value freed, address reused below
            local = {"m": j}
            local["m"] = j + 1                 # LOCAL (never module state)
            lst = [j]
            lst.append(j)

    # one thread after the other: the counts printed below must not depend on scheduling
    for t in [threading.Thread(target=worker, args=(i,)) for i in range(2)] + [threading.Thread(target=churn)]:
        t.start()
        t.join()
    Holder.table["a"] = 1
    del Holder
    gc.collect()
    def after():
        d = {}
        d["after"] = 1                         # AFTER
        return d
    for _ in range(200):
        after()
    cache.clear()
    gc.collect()
    print(counter, sorted(counts.items()), len(cache))
    print(sorted(CALLS.items()))
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        # str hashes decide which dict lookups meet the colliding key: same seed for both runs
        seed = {"PYTHONHASHSEED": "7"}
        # every access is counted below: no filtering (the filters' own test is t_access_filter)
        traced_env = dict(seed, NOGILRACE_EVERY_EVENT="1")
        plain = untraced(SRC, py, env=seed)
        check(plain.returncode == 0, L + "untraced run failed: %s" % plain.stderr[-2000:])
        r = run(SRC, py, env=traced_env)
        check(r.stdout == plain.stdout, L + "traced output differs:\n traced   %r\n untraced %r\n%s" % (
            r.stdout, plain.stdout, r.stderr[-2000:]))
        check("repr must not be called" not in r.stderr, L + "a hook called repr: %s" % r.stderr)
        # still traced: the counter (LOAD_GLOBAL despite the colliding key), the Counts container,
        # exec'd code against module globals
        rd = at(r.accesses("app.counter", "read"), SRC, "# COUNTER", "worker")
        check(len(rd) == 100, L + "app.counter reads in worker: %d\n%s" % (len(rd), r.show("app.counter")))
        ex = [x for x in r.accesses("app.counter", "write") if x["stack"] and x["stack"][0]["file"] == "<dyn>"]
        check(len(ex) == 100 and all(x["stack"][0]["function"] == "<module>" for x in ex),
              L + "writes of app.counter from exec'd code (<dyn>): %d" % len(ex))
        lt = at(r.accesses("app.late", "read"), SRC, "# LATE", "worker")
        check(len(lt) == 100 and len({x["thread"] for x in lt}) == 2,
              L + "app.late reads (module dict with a non-str key): %d" % len(lt))
        m = at(r.accesses("app.counts", "write", var_kind="container"), SRC, "# MISSING", "worker")
        check(len(m) == 100 and {x["key"] for x in m} == {"'k0'", "'k1'", "'k2'"},
              L + "dict subclass with __missing__ traced by key: %d %s" % (len(m), {x["key"] for x in m}))
        # hostile keys: the container access is recorded, the key is not identified by content
        hk = at(r.accesses("app.cache", "write", var_kind="container"), SRC, "# HKEY", "worker")
        check(len(hk) == 100, L + "writes to app.cache with hostile keys: %d" % len(hk))
        # address reuse: local containers are never module state
        for marker, fn in (("# LOCAL", "churn"), ("# AFTER", "after")):
            bad = [x for x in at(r.accesses(), SRC, marker, fn) if x["var_kind"] == "container"]
            check(not bad, L + "local container at %s reported as module state: %s" % (marker, bad[:3]))
        # throwaway exec namespaces are not the program's module state
        sc = [v for v in r.vars() if v.startswith("scratch")]
        print(L + "ok (%d records; exec namespaces seen as %s)" % (len(r.records), sc[:4]))


main()
