"""t_access_containers.py — items of containers reachable from module state.

dict items keyed by content (`app.cache` + key `'user:1'`, ints, bytes, tuples), `k in d`,
d.get/setdefault/pop, `del d[k]`, list append and items by index (`items[0]`: the list's item 0),
set add, deque, bytearray, class-attribute
containers, and iteration (`for`, `d.items()`, `list(d)`, `sorted(s)`), emptiness tests (`if dq:`, `len(d)`) as ITER_BEGIN ... ITER_END
spans.  Single container operations carry the atomic flag; `d[k] = d.get(k, 0) + 1` is a read
and a write in one frame.
"""
from t_access_lib import at, check, interpreters, run

SRC = """\
    import collections
    import threading

    cache = {}
    items = []
    seen = set()
    dq = collections.deque()
    buf = bytearray(4)

    class Reg:
        table = {}

    tmp_lock = threading.Lock()
    phase = threading.Barrier(2)

    def worker(n):
        cache["user:1"] = cache.get("user:1", 0) + 1     # GETSET
        cache[7] = n                                      # INTKEY
        cache[b"raw"] = n                                 # BYTESKEY
        cache[("a", 1)] = n                               # TUPLEKEY
        if "user:2" in cache:                             # CONTAINS
            pass
        cache.setdefault("user:3", []).append(n)          # SETDEFAULT
        with tmp_lock:  # unlocked, the other thread's del could come between: KeyError
            cache["tmp"] = 1
            del cache["tmp"]                              # DELITEM
        cache.pop("gone", None)                           # POP
        items.append(n)                                   # APPEND
        x = items[0]                                      # INDEX
        seen.add(n)                                       # SETADD
        dq.append(n)                                      # DEQUE
        buf[0] = n                                        # BYTEARRAY
        Reg.table["k"] = n                                # CLSDICT
        # iterate only once both threads are done inserting and deleting keys: a size change
        # under a running `for` raises "dictionary changed size during iteration"
        phase.wait()
        for k in cache:                                   # FORLOOP
            pass
        for k, v in cache.items():                        # ITEMS
            pass
        snapshot = list(cache)                            # LISTCALL
        order = sorted(seen)                              # SORTED
        if dq:                                            # TRUTH
            pass
        size = len(cache)                                 # LEN
        return x

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()
    # the GETSET line is a real lost update between the two workers: 1 is a legal outcome too
    print(cache["user:1"] in (1, 2), len(items), sorted(seen), len(dq), buf[0] in (0, 1), Reg.table["k"] in (0, 1))
"""

EXPECT = [
    # (var, kind, key, marker, atomic)
    ("app.cache", "read", "'user:1'", "# GETSET", True),
    ("app.cache", "write", "'user:1'", "# GETSET", True),
    ("app.cache", "write", "7", "# INTKEY", True),
    ("app.cache", "write", "b'raw'", "# BYTESKEY", True),
    ("app.cache", "write", "('a', 1)", "# TUPLEKEY", True),
    ("app.cache", "contains", "'user:2'", "# CONTAINS", True),
    ("app.cache", "write", "'user:3'", "# SETDEFAULT", True),
    ("app.cache", "delete", "'tmp'", "# DELITEM", True),
    ("app.cache", "delete", "'gone'", "# POP", True),
    ("app.items", "write", None, "# APPEND", True),
    ("app.items", "read", "0", "# INDEX", True),
    ("app.seen", "write", "0", "# SETADD", True),
    ("app.dq", "write", None, "# DEQUE", True),
    ("app.buf", "write", "0", "# BYTEARRAY", True),
    ("app.Reg.table", "write", "'k'", "# CLSDICT", True),
    ("app.dq", "read", None, "# TRUTH", True),      # emptiness test: whole container
    ("app.cache", "read", None, "# LEN", True),
]


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        r = run(SRC, py)
        check(r.stdout == "True 2 [0, 1] 2 True True\n", L + "output %r %s" % (r.stdout, r.stderr))
        for var, kind, key, marker, atomic in EXPECT:
            recs = at(r.accesses(var, kind, var_kind="container"), SRC, marker, "worker")
            if var == "app.seen":  # set elements are keys too: one per thread
                check({x["key"] for x in recs} == {"0", "1"}, L + "set elements as keys: %s" % recs)
                continue
            recs = [x for x in recs if x["key"] == key]
            check(len(recs) == 2, L + "%s %s key=%s at %s from both threads:\n%s" % (
                var, kind, key, marker, r.show(var)))
            check(all(x["atomic"] == atomic for x in recs), L + "atomic=%s at %s: %s" % (
                atomic, marker, recs))
            check(all(x["var_kind"] == "container" for x in recs), L + "container: %s" % recs)
        # read-then-write of one key in one frame
        rd = at(r.accesses("app.cache", "read", key="'user:1'"), SRC, "# GETSET")
        wr = at(r.accesses("app.cache", "write", key="'user:1'"), SRC, "# GETSET")
        for a in rd:
            check(any(b["frame"] == a["frame"] and b["thread"] == a["thread"] for b in wr),
                  L + "d[k] = d.get(k) + 1 pairs by frame: %s / %s" % (rd, wr))
        # iteration spans
        for marker in ("# FORLOOP", "# ITEMS", "# LISTCALL"):
            b = at(r.accesses("app.cache", "iter_begin", var_kind="container"), SRC, marker)
            check(len(b) == 2 and all(x["key"] is None for x in b),
                  L + "iter_begin of app.cache at %s:\n%s" % (marker, r.show("app.cache")))
            for x in b:
                ends = [e for e in r.accesses("app.cache", "iter_end", thread=x["thread"])
                        if e["frame"] == x["frame"]]
                check(ends, L + "iter_end with the frame of the iter_begin at %s: %s" % (marker, x))
        # a for loop's span covers its body: no other record of this thread between begin and
        # end would prove nothing, so check order: begin precedes end in the thread's records
        for t in {x["thread"] for x in r.accesses("app.cache", "iter_begin")}:
            seq = [x["kind"] for x in r.accesses("app.cache", thread=t)
                   if x["kind"] in ("iter_begin", "iter_end")]
            depth = 0
            for k in seq:
                depth += 1 if k == "iter_begin" else -1
                check(depth >= 0, L + "iter_end before its iter_begin in thread %d: %s" % (t, seq))
            check(depth == 0, L + "every iteration ends in thread %d: %s" % (t, seq))
        s = at(r.accesses("app.seen", "iter_begin"), SRC, "# SORTED")
        check(len(s) == 2, L + "sorted(set) is an iteration:\n%s" % r.show("app.seen"))
        print(L + "ok")


main()
