"""t_access_filter.py — what the read filter keeps (the overhead budget relies on it).

* A read is recorded once per thread, instruction and write epoch of its variable: a loop reading
  a global nobody writes leaves one record per thread, and NOGILRACE_EVERY_EVENT=1 keeps them all.
* Globals bound once (numbers, strings, also module-level containers, locks, objects; not None
  or bools, the sentinels of lazy initialisation) have their LOAD_GLOBALs switched off after the
  first record; a later rebinding switches them back on: reads after it are recorded again.
* A skipped read followed by a write of the same variable in the same function activation is
  recorded right before the write, so read-then-write pairs survive the filter.
"""
from t_access_lib import at, check, interpreters, run

SRC = """\
    import threading

    LIMIT = 10
    state = None
    G = 0

    def spin(n):
        t = 0
        for _ in range(n):
            t += LIMIT                     # LIMITREAD
        return t

    def maybe_bump(flag):
        global G
        x = G                              # GREAD
        if flag:
            G = x + 1                      # GWRITE

    def poll(n):
        c = 0
        for _ in range(n):
            if state is None:              # STATEREAD
                c += 1
        return c

    go = threading.Event()
    done_first = threading.Event()

    def worker():
        spin(1000)
        poll(1000)
        done_first.set()
        go.wait()
        spin(1000)
        for flag in (False, False, True, False, True):
            maybe_bump(flag)

    t = threading.Thread(target=worker, name="reader")
    t.start()
    done_first.wait()
    LIMIT = 20                             # LIMITWRITE
    go.set()
    t.join()
    print(G, spin(1))
"""


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout == "2 20\n", L + "output %r %s" % (r.stdout, r.stderr))
        recs = r.accesses()
        worker_t = {x["thread"] for x in recs if x["thread_name"] == "reader"}
        check(len(worker_t) == 1, L + "one reader thread: %s" % worker_t)
        wt = worker_t.pop()
        lim = at(r.accesses("app.LIMIT", "read", thread=wt), SRC, "# LIMITREAD")
        check(1 <= len(lim) <= 4, L + "LIMIT read in a 2x1000 loop recorded a few times: %d" % len(lim))
        # a read after the write, in the reader thread
        idx_w = [i for i, x in enumerate(recs) if x["var"] == "app.LIMIT" and x["kind"] == "write"
                 and x["thread"] == 1 and x["stack"] and x["stack"][0]["line"] > 30]
        check(idx_w, L + "the main thread's LIMIT = 20 is recorded")
        check(len(lim) >= 2, L + "LIMIT read again after the write (instructions switched back on): %d" % len(lim))
        st = at(r.accesses("app.state", "read", thread=wt), SRC, "# STATEREAD")
        check(1 <= len(st) <= 20, L + "state (None) read 1000 times: recorded %d" % len(st))
        gw = at(r.accesses("app.G", "write", thread=wt), SRC, "# GWRITE", "maybe_bump")
        check(len(gw) == 2, L + "two writes of G: %d" % len(gw))
        mine = [x for x in recs if x["thread"] == wt and x["var"] == "app.G"]
        for w in gw:
            i = mine.index(w)
            prev = mine[i - 1] if i > 0 else None
            check(prev and prev["kind"] == "read" and prev["frame"] == w["frame"],
                  L + "the write of G is preceded by the read of its activation: %s / %s" % (prev, w))
        r2 = run(SRC, py, env={"NOGILRACE_EVERY_EVENT": "1"})
        lim2 = at(r2.accesses("app.LIMIT", "read"), SRC, "# LIMITREAD")
        check(len(lim2) >= 2000, L + "NOGILRACE_EVERY_EVENT=1 keeps every read: %d" % len(lim2))
        print(L + "ok: LIMIT reads %d (all: %d), state reads %d" % (len(lim), len(lim2), len(st)))


main()
