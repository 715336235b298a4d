"""t_access_imports.py — modules imported after tracing starts are watched from their first
store: the module body's writes are recorded (in `<module>` of the imported file), a lock it
defines is named after its global (`mod1.mlock`), and dunder bookkeeping (`__name__` reads by the
import system or `if __name__ == "__main__"`) is not reported as state.
"""
from t_access_lib import check, interpreters, run, top

MOD = """\
    import threading
    X = 1                     # MODX
    mlock = threading.Lock()
"""

SRC = """\
    import threading
    import mod1

    def worker():
        with mod1.mlock:
            mod1.X = mod1.X + 1          # USE

    if __name__ == "__main__":
        ts = [threading.Thread(target=worker) for _ in range(2)]
        for t in ts: t.start()
        for t in ts: t.join()
        print(mod1.X)
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py, files={"mod1.py": MOD})
        check(r.stdout == "3\n", L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        body = [x for x in r.accesses("mod1.X", "write") if top(x)["function"] == "<module>"
                and top(x)["file"].endswith("mod1.py")]
        check(len(body) == 1 and top(body[0])["line"] == 2, L + "mod1.X = 1 in the module body: %s" % body)
        used = [x for x in r.accesses("mod1.X") if x["thread"] != 1]
        check(len(used) == 4 and all(x["locks"] == ["mod1.mlock"] for x in used),
              L + "mod1.X read+write under mod1.mlock in both threads: %s" % [
                  (x["kind"], x["locks"]) for x in used])
        dn = [v for v in r.vars() if v.rsplit(".", 1)[-1].startswith("__")]
        check(not dn, L + "no dunder variables: %s" % dn)
        print(L + "ok")


main()
