"""t_access_store_memo.py — the watcher's memory of a thread's last stores never names a store wrong.

watch.c remembers, per thread, the variable of each (dict, key object) it stored to, so that a hot
loop's store is not named again each round.  Keys built at run time are new str objects each time,
freed right after the store, and the next one often takes the same address with other text: the
key's hash is compared too.  A function stored where a number was is a definition or a patch, not
a plain write, memory or not.  Checked with every event recorded:

* `globals()["k" + s] = i` for s in "a", "b", "c" in turn, 300 rounds: exactly 100 writes each of
  app.ka, app.kb, app.kc (and no other app.k* variable);
* `LAST = i` 300 times in a function, then `LAST = handler` from the module's own body: the int
  stores are writes (but the first, which stores the 0 LAST holds: no event), the function stored
  from the module body is no record (a definition), and a rebinding to another function from
  another module is a write (a patch).
"""
from t_access_lib import check, interpreters, run

SRC = """\
    import sys
    import other

    LAST = 0

    def churn():
        g = globals()
        for i in range(300):
            g["k" + "abc"[i % 3]] = i

    def loop():
        global LAST
        for i in range(300):
            LAST = i

    def handler():
        return 1

    churn()
    loop()
    LAST = handler
    other.patch(sys.modules[__name__])
    print(sorted(k for k in globals() if k.startswith("k")), LAST())
"""

OTHER = """\
    def fake():
        return 2

    def patch(mod):
        mod.LAST = fake
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py, files={"other.py": OTHER}, env={"NOGILRACE_EVERY_EVENT": "1"})
        check(r.stdout == "['ka', 'kb', 'kc'] 2\n", L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        ks = {}
        for x in r.accesses(kind="write"):
            if x["var"].startswith("app.k"):
                ks[x["var"]] = ks.get(x["var"], 0) + 1
        check(ks == {"app.ka": 100, "app.kb": 100, "app.kc": 100},
              L + "writes of globals()['k' + s]: %s (want 100 each of app.ka, app.kb, app.kc)" % ks)
        last = r.accesses("app.LAST", "write")
        by_fn = {}
        for x in last:
            fn = x["stack"][0]["function"] if x["stack"] else "?"
            by_fn[fn] = by_fn.get(fn, 0) + 1
        # LAST = 0 in loop() stores the object LAST holds: the dict watcher does not fire
        check(by_fn.get("loop") == 299, L + "LAST = i in loop(): %s" % by_fn)
        check(by_fn.get("patch") == 1, L + "the patch from other.py is a write: %s" % by_fn)
        check(by_fn.get("<module>") == 1,
              L + "LAST = 0 is a write, LAST = handler in the module body a definition (no record): %s" % by_fn)
        print(L + "ok: %s, LAST writes %s" % (ks, by_fn))


main()
