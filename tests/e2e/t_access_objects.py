"""t_access_objects.py — how the hooks reach into objects held in module state.

* attributes of a module-level instance: `SERVICE.hits += 1`, `self.hits` in its methods;
* the instance's __dict__ used directly, as functools.cached_property does (`cache = obj.__dict__;
  cache.get(name)` ... `cache[name] = val`): reported as the attribute `app.SERVICE.config`;
* a stdlib module's instance: `random._inst.gauss_next`, read and written inside Random.gauss;
* two steps away: a list in an attribute of a module-level instance, appended to by two threads,
  is a shared object of its own, named where it was stored (`self.log = []` in Service.__init__,
  before SERVICE was bound: `app.Service().log`).
"""
from t_access_lib import at, check, interpreters, run, top

SRC = """\
    import functools
    import random
    import threading

    class Service:
        def __init__(self):
            self.hits = 0
            self.log = []
        @functools.cached_property
        def config(self):
            return {"x": 1}
        def hit(self):
            self.hits += 1                     # SELFHIT

    SERVICE = Service()

    def worker():
        c = SERVICE.config                     # CACHED
        random.gauss(0, 1)
        random.gauss(0, 1)
        SERVICE.hit()
        SERVICE.log.append(1)                  # TWOSTEPS

    ts = [threading.Thread(target=worker) for _ in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()
    # self.hits += 1 from both workers is a real lost update: 1 is a legal outcome too
    print(SERVICE.hits in (1, 2), SERVICE.config)
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout == "True {'x': 1}\n", L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        hits = [x for x in r.accesses("app.SERVICE.hits") if x["thread"] != 1]
        check({x["kind"] for x in hits} == {"read", "write"} and
              all(top(x)["function"] == "Service.hit" for x in hits),
              L + "self.hits in Service.hit: %s" % [(x["kind"], top(x)["function"]) for x in hits])
        cfg = [x for x in r.accesses("app.SERVICE.config") if x["thread"] != 1]
        fns = {top(x)["function"] for x in cfg}
        check(any(x["kind"] == "read" for x in cfg) and any(x["kind"] == "write" for x in cfg)
              and "cached_property.__get__" in fns,
              L + "cached_property's __dict__ accesses as app.SERVICE.config: %s" % [
                  (x["kind"], top(x)["function"]) for x in cfg])
        g = r.accesses("random._inst.gauss_next")
        check(any(x["kind"] == "read" for x in g) and any(x["kind"] == "write" for x in g) and
              all(top(x)["function"] == "Random.gauss" for x in g),
              L + "random._inst.gauss_next in Random.gauss: %s" % [(x["kind"], top(x)["function"]) for x in g])
        two = [x for x in r.accesses("app.Service().log") if x["thread"] != 1]
        check(len(two) == 2 and all(x["kind"] == "write" and x["atomic"] for x in two) and
              len(at(two, SRC, "# TWOSTEPS")) == 2,
              L + "SERVICE.log.append from two workers: %s" % [(x["kind"], x["var"]) for x in two])
        print(L + "ok")


main()
