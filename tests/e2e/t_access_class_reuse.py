"""t_access_class_reuse.py — a class created at a freed class's address is traced (or not) by its
own module, under its own name.

The hooks cache each class's display name ("app.make.<locals>.Local", or "not ours") by the
type's address.  With NOGILRACE_INCLUDE=app:
  1. app makes 300 classes in a function and reads their attributes (named, watched), frees them;
     then the untraced module junk makes 300 classes, many at the freed addresses, and reads and
     writes their attributes: nothing of junk's may be recorded (before the fix its classes were
     traced as app.make.<locals>.Local.attr);
  2. junk makes 300 classes and reads their attributes ("not ours"), frees them; then app makes
     300 at those addresses and writes each one's `val`: all 300 writes must be recorded (before
     the fix the classes at reused addresses were left out).
The program prints how many addresses were reused in each phase; the test fails if none was.
"""
from t_access_lib import check, interpreters, run, top

JUNK = """\
    def make(i):
        class J:
            attr = i
        return J

    def run(n):
        out = [make(i) for i in range(n)]
        total = 0
        for c in out:
            total += c.attr
            c.attr = total
        return total, [id(c) for c in out]

    def churn(n):
        cs = [make(i) for i in range(n)]
        t = 0
        for c in cs:
            t += c.attr
        return {id(c) for c in cs}
"""

SRC = """\
    import gc
    import junk

    def make(i):
        class Local:
            val = i
        return Local

    # 1. traced classes freed, untraced ones at their addresses
    held = [make(i) for i in range(300)]
    for C in held:
        _ = C.val
    freed = {id(C) for C in held}
    del C
    held.clear()
    gc.collect()
    total, ids = junk.run(300)
    reused1 = sum(i in freed for i in ids)

    # 2. untraced classes freed, traced ones at their addresses
    theirs = junk.churn(300)
    gc.collect()
    mine = [make(i) for i in range(300)]
    reused2 = sum(id(C) in theirs for C in mine)
    for C in mine:
        C.val = C.val + 1                 # WRITE
    print(total, reused1, reused2)
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py, files={"junk.py": JUNK}, env={"NOGILRACE_INCLUDE": "app"})
        out = r.stdout.split()
        check(len(out) == 3 and out[0] == "44850", L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        reused1, reused2 = int(out[1]), int(out[2])
        check(reused1 > 0 and reused2 > 0, L + "class addresses not reused (%d, %d): the cases were "
                                               "not exercised" % (reused1, reused2))
        theirs = [a for a in r.accesses() if a["stack"] and top(a)["file"].endswith("junk.py")]
        check(not theirs, L + "%d accesses recorded in untraced junk (%d of its classes at freed "
                              "app class addresses), e.g. %s" % (
                                  len(theirs), reused1, sorted({a["var"] for a in theirs})[:3]))
        w = [a for a in r.accesses(var="app.make.<locals>.Local.val", kind="write")
             if a["stack"] and top(a)["file"].endswith("app.py")]
        check(len(w) == 300, L + "%d of 300 writes of Local.val recorded (%d classes at freed junk "
                                 "class addresses)" % (len(w), reused2))
        print(L + "ok: %d and %d class addresses reused, traced by their own module" % (reused1, reused2))


main()
