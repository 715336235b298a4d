"""t_access_extarg.py — instructions with EXTENDED_ARG prefixes (a function using more than 256
global names) are traced once each, with their full argument: the right variable, one frame id
per call (the prefix reports separately and must not count as a second access)."""
from t_access_lib import check, interpreters, run, top

lines = ["counter = 0", "items = []"]
lines += ["g%d = %d" % (i, i) for i in range(300)]
lines += ["def f():", "    global counter"]
lines += ["    _ = g%d if False else None" % i for i in range(300)]
lines += ["    items.append(counter)          # APPEND",
          "    counter = counter + 1          # BUMP",
          "f()", "f()", "print(counter, len(items))"]
SRC = "\n".join(lines) + "\n"


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout == "2 2\n", L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        inf = [x for x in r.accesses() if top(x)["function"] == "f"
               and x["var"] in ("app.counter", "app.items")]
        w = [x for x in inf if x["var"] == "app.counter" and x["kind"] == "write"]
        a = [x for x in inf if x["var"] == "app.items" and x["var_kind"] == "container"]
        check(len(w) == 2 and len(a) == 2, L + "2 writes of counter, 2 appends: %s" % [
            (x["var"], x["kind"], x["frame"]) for x in inf])
        for call in range(2):
            fr = w[call]["frame"]
            mine = [x for x in inf if x["frame"] == fr]
            kinds = sorted((x["var"], x["var_kind"], x["kind"]) for x in mine)
            check(("app.counter", "global", "read") in kinds and a[call]["frame"] == fr,
                  L + "call %d: one frame for the append, the read and the write: %s" % (call, kinds))
            reads = [x for x in mine if x["var"] == "app.counter" and x["kind"] == "read"]
            check(len(reads) <= 2, L + "no doubled reads from the prefix: %s" % kinds)
        check(w[0]["frame"] != w[1]["frame"], L + "two calls, two frames")
        print(L + "ok")


main()
