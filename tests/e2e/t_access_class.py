"""t_access_class.py — class attributes: `Cls.attr`, `cls.attr` in classmethods and __new__,
`Cls.attr += 1`, and attributes of module-level instances (`METRICS.requests += 1`,
`self.requests += 1` in its method), named `app.Registry.created` / `app.METRICS.requests`.
"""
from t_access_lib import at, check, interpreters, run

SRC = """\
    import threading

    class Registry:
        created = 0
        def __new__(cls):
            cls.created = cls.created + 1        # NEW
            return super().__new__(cls)
        @classmethod
        def make(cls):
            cls.created += 1                     # CLSM

    class Metrics:
        def __init__(self):
            self.requests = 0
        def inc(self):
            self.requests += 1                   # SELF

    METRICS = Metrics()
    serial = threading.Lock()

    def worker():
        # One worker at a time: unlocked, the two could lose an update (output 5 or 3), and a
        # store of the value the class dict already holds fires no dict watcher event, so the
        # losing thread's write would be missing from the trace (docs/limits.md).
        with serial:
            Registry.created += 1                # PLUS
            n = Registry.created                 # READ
            Registry()
            Registry.make()
            METRICS.requests += 1                # OBJ
            METRICS.inc()

    ts = [threading.Thread(target=worker, name="w%d" % i) for i in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(Registry.created, METRICS.requests)
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout == "6 4\n", L + "output %r %s" % (r.stdout, r.stderr))
        var = "app.Registry.created"
        for marker, fn, kinds in (("# PLUS", "worker", ("read", "write")),
                                  ("# READ", "worker", ("read",)),
                                  ("# NEW", "Registry.__new__", ("read", "write")),
                                  ("# CLSM", "Registry.make", ("read", "write"))):
            for k in kinds:
                recs = at(r.accesses(var, k), SRC, marker, fn)
                check(len(recs) == 2, L + "%s %s at %s in %s from both threads:\n%s" % (
                    var, k, marker, fn, r.show("app.Registry")))
                check(all(x["var_kind"] == "class_attr" for x in recs), L + "class_attr: %s" % recs)
                check(len({x["thread"] for x in recs}) == 2, L + "two threads: %s" % recs)
            if len(kinds) == 2:
                rd = at(r.accesses(var, "read"), SRC, marker, fn)
                wr = at(r.accesses(var, "write"), SRC, marker, fn)
                for a in rd:
                    check(any(b["frame"] == a["frame"] and b["thread"] == a["thread"] for b in wr),
                          L + "read and write at %s pair by frame: %s / %s" % (marker, rd, wr))
        var = "app.METRICS.requests"
        for marker, fn in (("# OBJ", "worker"), ("# SELF", "Metrics.inc")):
            rd = at(r.accesses(var, "read"), SRC, marker, fn)
            wr = at(r.accesses(var, "write"), SRC, marker, fn)
            check(len(rd) == 2 and len(wr) == 2,
                  L + "%s read+write at %s in %s:\n%s" % (var, marker, fn, r.show("app.METRICS")))
            check(all(x["var_kind"] == "obj_attr" for x in rd + wr), L + "obj_attr: %s" % rd)
        print(L + "ok")


main()
