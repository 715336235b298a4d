"""t_access_globals.py — module globals reach the trace, however they are read or written.

LOAD_GLOBAL / STORE_GLOBAL / DELETE_GLOBAL, `mod.x` and `mod.x = v` through a module object,
`globals()[k] = v`, `setattr(module, ...)`, a write from C code (dict.update on globals()); each
with its kind, the human name (`app.counter`: the script's module is named by its file stem),
the thread and its name, the Python stack (file, line, function), a frame id shared by a read and
the write of one call and different for the next call, and NOGILRACE_STACK_DEPTH honoured.
"""
import os

from t_access_lib import at, check, interpreters, run, top

HELPER = """\
    value = 10
"""

SRC = """\
    import sys
    import threading
    import helper

    counter = 0
    gone = 1

    def bump():
        global counter
        x = counter              # READ1
        counter = x + 1          # WRITE1

    def drop():
        global gone
        del gone                 # DEL

    def via_module():
        helper.value = helper.value + 1      # MODATTR

    def via_globals():
        globals()["dyn"] = 5                 # GLOBALS

    def via_setattr():
        setattr(sys.modules[__name__], "dyn2", 6)   # SETATTR

    def via_c():
        globals().update(cval=7)             # CCODE

    mode = 0

    def flip(on):
        global mode
        if on:
            x = mode             # FLIPREAD
        else:
            mode = 1             # FLIPWRITE

    def worker():
        bump()                   # CALL_A
        bump()                   # CALL_B
        flip(True)
        flip(False)
        drop()
        via_module()
        via_globals()
        via_setattr()
        via_c()

    t = threading.Thread(target=worker, name="worker-1")
    t.start()
    t.join()
    print(counter, helper.value, dyn, dyn2, cval)
"""


def main():
    for label, py in interpreters():
        r = run(SRC, py, files={"helper.py": HELPER})
        check(r.stdout == "2 11 5 6 7\n", "[%s] output %r %s" % (label, r.stdout, r.stderr))
        L = "[%s] " % label

        reads = at(r.accesses("app.counter", "read"), SRC, "# READ1", "bump")
        writes = at(r.accesses("app.counter", "write"), SRC, "# WRITE1", "bump")
        check(len(reads) == 2 and len(writes) == 2,
              L + "2 reads + 2 writes of app.counter in bump():\n" + r.show("app."))
        for rec in reads + writes:
            check(rec["var_kind"] == "global", L + "var_kind global: %s" % rec)
            check(rec["thread"] != 1 and rec["thread_name"] == "worker-1",
                  L + "recorded in the worker thread: %s" % rec)
            check(not rec["atomic"], L + "a plain global access is not atomic: %s" % rec)
            st = rec["stack"]
            check(len(st) >= 2 and st[1]["function"] == "worker" and
                  os.path.basename(st[1]["file"]) == "app.py",
                  L + "caller frame worker() in the stack: %s" % st)
        # read and write of one call pair up; the two calls (same frame memory) do not
        check(reads[0]["frame"] == writes[0]["frame"] and reads[1]["frame"] == writes[1]["frame"],
              L + "read/write of one call share a frame id: %s" % [(x["frame"]) for x in reads + writes])
        check(reads[0]["frame"] != reads[1]["frame"],
              L + "two calls of bump() have different frame ids: %s" % reads[0]["frame"])
        lines = [r_["stack"][1]["line"] for r_ in reads]
        check(len(set(lines)) == 2, L + "the two calls come from two call sites: %s" % lines)

        fr = at(r.accesses("app.mode", "read"), SRC, "# FLIPREAD", "flip")
        fw = at(r.accesses("app.mode", "write"), SRC, "# FLIPWRITE", "flip")
        check(len(fr) == 1 and len(fw) == 1 and fr[0]["frame"] != fw[0]["frame"],
              L + "a read in one call and a write in the next (later in the code) are two frames: %s %s"
              % ([x["frame"] for x in fr], [x["frame"] for x in fw]))

        dels = at(r.accesses("app.gone", "delete"), SRC, "# DEL", "drop")
        check(len(dels) == 1, L + "del of a global is a delete:\n" + r.show("app.gone"))

        mr = at(r.accesses("helper.value", "read"), SRC, "# MODATTR", "via_module")
        mw = at(r.accesses("helper.value", "write"), SRC, "# MODATTR", "via_module")
        check(len(mr) == 1 and len(mw) == 1 and mr[0]["frame"] == mw[0]["frame"],
              L + "helper.value read+write through the module object:\n" + r.show("helper."))

        for var, marker, fn in (("app.dyn", "# GLOBALS", "via_globals"),
                                ("app.dyn2", "# SETATTR", "via_setattr"),
                                ("app.cval", "# CCODE", "via_c")):
            w = at(r.accesses(var, "write"), SRC, marker, fn)
            check(len(w) == 1, L + "%s written at %s:\n%s" % (var, marker, r.show(var)))

        # the module body's own stores are writes by the main thread
        init = r.accesses("app.counter", "write", thread=1)
        check(len(init) == 1 and top(init[0])["function"] == "<module>",
              L + "app.counter = 0 at import is a main-thread write: %s" % init)

        # a read of module state by print() at the end: main thread, module level
        fin = [x for x in r.accesses("app.counter", "read", thread=1)
               if top(x)["function"] == "<module>"]
        check(len(fin) == 1, L + "final read of counter in the main thread: %s" % fin)

        # stack depth option
        r2 = run(SRC, py, files={"helper.py": HELPER}, env={"NOGILRACE_STACK_DEPTH": "1"})
        acc = r2.accesses("app.counter")
        check(acc and all(len(x["stack"]) == 1 for x in acc),
              L + "NOGILRACE_STACK_DEPTH=1 gives one-frame stacks: %s" % [len(x["stack"]) for x in acc])
        print(L + "ok: %d records" % len(r.records))


main()
