"""t_access_table_full.py — a full lookup table costs nothing per access: the program is unchanged,
the trace does not grow with the accesses to what no longer fits, and one warning says so.

The hooks' tables (variables, dict keys, namespaces ...) have a fixed size.  The program makes
100,000 distinct module globals ("vars" mode) or 100,000 distinct keys of one module-level dict
("keys" mode): more than the variable table / key table holds.  Then it rewrites the last 1,000
of them (which certainly found no room) ROUNDS times.  Run with ROUNDS=1 and ROUNDS=10:

* output and exit status (3) are those of the untraced program;
* the metadata (all records but accesses, threads and notes) does not grow with the 9,000 extra
  writes: a variable or key that found no room is not defined again at each access.  Before the
  fix every such write defined a new variable (a VAR record and a leaked name per write) or a key
  (a repr and a KEY record per write): +9,000 records.  (Which entries fit depends on addresses
  and string hashes, so a run or two of the last 1,000 may have found a slot: the bound is 900,
  one record per ten extra writes, not equality);
* vars mode: variables that found no room are not traced, so the accesses do not grow either
  (same bound); keys mode: keys that found no room are still traced (a key id is its content's
  hash), so exactly the 9,000 extra item writes are added;
* exactly one warning note names the full table, and `nogilrace report` reports it.

And what used to overflow does not any more: 24,000 live modules, each holding a list, are all
traced (writes and reads of genN.x), with no warning.  Before, the namespace table held 16,384
and about 7,700 modules were left out.  And a global rebound to a fresh dict 85,000 times (each
kept alive, so each at a new address) has every dict's item write traced: an object untracked at
its rebinding leaves its slot for reuse.  Before, the dead entries filled the table: 16,276 of
85,000 with the 16,384-slot table, 81,121 and a warning with the spill table alone.
"""
import json
import os
import re
import subprocess
import textwrap

from t_access_lib import check, interpreters

SRC = """\
    import sys

    N = 100000
    CACHE = {}


    def main():
        mode, rounds = sys.argv[1], int(sys.argv[2])
        g = globals()
        if mode == "vars":
            for i in range(N):
                g["v%d" % i] = i
            for r in range(rounds):
                for i in range(N - 1000, N):
                    g["v%d" % i] = i + r
            print(sum(g["v%d" % i] for i in range(N)))
        else:
            for i in range(N):
                CACHE["k%d" % i] = i
            for r in range(rounds):
                for i in range(N - 1000, N):
                    CACHE["k%d" % i] = i + r
            print(sum(CACHE.values()))
        return 3


    sys.exit(main())
"""

TABLE = {"vars": "variable table full", "keys": "key table full"}

MODULES = """\
    import sys, types

    N = 24000
    mods = []


    def main():
        for i in range(N):
            m = types.ModuleType("gen%d" % i)
            sys.modules[m.__name__] = m
            m.x = [i]          # a write, seen by the dict watcher
            mods.append(m)
        print(sum(m.x[0] for m in mods))   # a read through each module


    main()
"""

CHURN = """\
    CACHE = None


    def main():
        global CACHE
        keep = []
        for i in range(85000):
            d = {"n": i}
            keep.append(d)      # alive: the next dict is at a new address
            CACHE = d           # tracked as app.CACHE; the previous one is untracked
            CACHE["n"] += 1
        print(sum(d["n"] for d in keep))


    main()
"""


_n = [0]


def traced(src, py, args=(), expect_rc=0):
    """Run `src` as app.py under the preload; (stdout, case directory, dump --json lines).  The
    lines are read selectively (json.loads of 150,000 records would take most of the test)."""
    _n[0] += 1
    d = os.path.join(os.environ["NGR_TMP"], "full%d" % _n[0])
    tr = os.path.join(d, "traces")
    os.makedirs(tr)
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(textwrap.dedent(src))
    # every access: the rounds are counted, and the repeat filter would keep only a sample
    e = dict(os.environ, LD_PRELOAD=os.environ["NGR_PRELOAD"], NOGILRACE_TRACE_DIR=tr,
             NOGILRACE_EVERY_EVENT="1")
    p = subprocess.run([py, "app.py"] + list(args), cwd=d, env=e, capture_output=True, text=True,
                       timeout=300)
    check(p.returncode == expect_rc, "%s exited %d (want %d): %s" % (args, p.returncode, expect_rc,
                                                                      p.stderr[-2000:]))
    dump = subprocess.run([os.environ["NGR_ANALYZER"], "dump", "--json", tr], capture_output=True,
                          text=True, timeout=300)
    check(dump.returncode == 0, "dump --json failed: %s" % dump.stderr[-2000:])
    return p.stdout, d, dump.stdout.splitlines()


TYPE = re.compile(r'"type":"(\w+)"')
ACCESS = re.compile(r'"kind":"(\w+)".*?"var":"([^"]*)"')


def of_type(lines, t):
    return [l for l in lines if TYPE.search(l).group(1) == t]


def notes_in(lines):
    return [json.loads(l)["message"] for l in of_type(lines, "note")]


def counts(lines):
    """(metadata records, write access records, table-full warning notes) of a run.  Writes only:
    the run records every event (no read filter), so the reads of the globals CACHE and N grow
    with the rounds in both modes."""
    types = {}
    writes = 0
    for l in lines:
        t = TYPE.search(l).group(1)
        types[t] = types.get(t, 0) + 1
        if t == "access" and ACCESS.search(l).group(1) == "write":
            writes += 1
    end = [json.loads(l) for l in of_type(lines, "end")]
    check(len(end) == 1, "no end record")
    shown = sum(types.get(t, 0) for t in ("access", "thread", "sync", "note", "gil"))
    notes = [m for m in notes_in(lines) if "table full" in m]
    return end[0]["events"] - shown, writes, notes


def main():
    for label, py in interpreters():
        for mode in ("vars", "keys"):
            L = "[%s %s] " % (label, mode)
            res = {}
            for rounds in (1, 10):
                out, d, lines = traced(SRC, py, args=(mode, str(rounds)), expect_rc=3)
                # the same program untraced, in the same directory (its trace is written already)
                e = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
                plain = subprocess.run([py, "app.py", mode, str(rounds)], cwd=d, env=e,
                                       capture_output=True, text=True, timeout=300)
                check(plain.returncode == 3, L + "untraced run exited %d" % plain.returncode)
                check(out == plain.stdout, L + "output %r, untraced %r" % (out, plain.stdout))
                res[rounds] = (d, counts(lines))
            (d1, (meta1, acc1, notes1)), (d10, (meta10, acc10, notes10)) = res[1], res[10]
            print(L + "rounds 1: %d metadata, %d writes; rounds 10: %d metadata, %d writes"
                  % (meta1, acc1, meta10, acc10))
            check(abs(meta10 - meta1) < 900, L + "metadata grows with the accesses to what did not "
                                                 "fit: %d records with 1 round, %d with 10" % (meta1, meta10))
            if mode == "vars":
                check(abs(acc10 - acc1) < 900, L + "%d write records with 1 round, %d with 10: "
                                                   "variables that did not fit are traced after all"
                                                   % (acc1, acc10))
            else:
                check(acc10 - acc1 == 9000, L + "%d write records with 1 round, %d with 10 (want "
                                                "+9000: keys that did not fit stay traced)" % (acc1, acc10))
            for notes in (notes1, notes10):
                check(len(notes) == 1 and TABLE[mode] in notes[0],
                      L + "want one warning naming the %s, got %s" % (TABLE[mode], notes))
            rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json",
                                  os.path.join(d10, "traces")], capture_output=True, text=True,
                                 timeout=300)
            check(rep.returncode in (0, 66), L + "report exited %d: %s" % (rep.returncode, rep.stderr[-2000:]))
            warnings = json.loads(rep.stdout).get("warnings") or []
            check(sum(TABLE[mode] in w for w in warnings) == 1,
                  L + "report does not show the warning once: %s" % warnings)
            print(L + "ok: %s" % notes10[0])

        L = "[%s modules] " % label
        out, d, lines = traced(MODULES, py)
        check(out == "%d\n" % sum(range(24000)), L + "output %r" % out)
        written, read = set(), set()
        for l in of_type(lines, "access"):
            kind, var = ACCESS.search(l).groups()
            if var.startswith("gen"):
                (written if kind == "write" else read).add(var)
        want = {"gen%d.x" % i for i in range(24000)}
        check(written == want and read == want,
              L + "%d of 24000 modules' x written, %d read" % (len(written & want), len(read & want)))
        check(not notes_in(lines), L + "unexpected notes: %s" % notes_in(lines))
        print(L + "ok: 24000 modules traced")

        L = "[%s churn] " % label
        out, d, lines = traced(CHURN, py)
        check(out == "%d\n" % sum(range(1, 85001)), L + "output %r" % out)
        writes = 0
        for l in of_type(lines, "access"):
            if ACCESS.search(l).groups() == ("write", "app.CACHE") and json.loads(l)["key"] == "'n'":
                writes += 1
        check(writes == 85000, L + "%d of 85000 item writes traced" % writes)
        check(not notes_in(lines), L + "unexpected notes: %s" % notes_in(lines))
        print(L + "ok: 85000 dicts at new addresses traced")


main()
