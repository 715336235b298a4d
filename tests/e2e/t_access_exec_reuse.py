"""t_access_exec_reuse.py — one code object run in namespace after namespace, each freed before
the next is made at its address: every namespace's reads are its own.

LOAD_GLOBAL instructions cache the variable they resolved to, tagged with the globals dict's
address.  The program compiles a module source once and execs it into 200 fresh namespaces
(`__name__` mod0, mod2 ... mod398), calling its function f() (which reads the global x) in each;
the namespaces are freed one by one, so nearly every one takes the previous one's address (the
program prints how many did; the test fails if none did).  Each modN.x must be read under its own
name, from f().  Before the fix, every namespace at a reused address read the first one's
variable (and the read filter then dropped the reads: 1 or 2 of 200 namespaces had any).
"""
from t_access_lib import check, interpreters, run, top

SRC = """\
    import gc

    CODE = compile("x = None\\ndef f():\\n    return x\\nf()\\n", "tmpl.py", "exec")
    PAD = compile("def g():\\n    pass\\n", "pad.py", "exec")
    prev = None
    reused = 0
    for i in range(400):
        ns = {"__name__": "mod%d" % i}
        if i % 2 == 0:
            exec(CODE, ns)
            reused += id(ns) == prev
            prev = id(ns)
        else:
            # a namespace in between: the free-threaded build hands a dict freed at gc.collect()
            # out again only after one more allocation
            exec(PAD, ns)
        del ns
        gc.collect()  # f <-> its globals: a cycle
    print(reused)
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout.strip().isdigit(), L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
        reused = int(r.stdout)
        check(reused > 0, L + "no namespace took the previous one's address: the case was not exercised")
        reads = {}
        for a in r.accesses(kind="read"):
            if a["var"].startswith("mod") and a["stack"] and top(a)["function"] == "f":
                reads[a["var"]] = reads.get(a["var"], 0) + 1
        want = {"mod%d.x" % i for i in range(0, 400, 2)}
        missing = sorted(want - set(reads), key=lambda v: int(v[3:-2]))
        check(not missing, L + "%d of 200 namespaces (%d at a reused address) have no read of their "
                               "x from f(): %s" % (len(missing), reused, missing[:10]))
        stray = sorted(v for v in reads if v not in want)
        check(not stray, L + "unexpected variables read: %s" % stray[:10])
        print(L + "ok: %d of 200 namespaces at the previous one's address, each read as its own" % reused)


main()
