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
and about 7,700 modules were left out.
"""
import json
import os
import subprocess

from t_access_lib import check, interpreters, run

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


def counts(r):
    """(metadata records, access records, table-full warning notes) of a run."""
    end = [x for x in r.records if x.get("type") == "end"]
    check(len(end) == 1, "no end record")
    shown = sum(1 for x in r.records if x.get("type") in ("access", "thread", "sync", "note", "gil"))
    notes = [x["message"] for x in r.records if x.get("type") == "note" and x["kind"] == "warning"
             and "table full" in x["message"]]
    return end[0]["events"] - shown, len(r.accesses()), notes


def main():
    for label, py in interpreters():
        for mode in ("vars", "keys"):
            L = "[%s %s] " % (label, mode)
            res = {}
            for rounds in (1, 10):
                r = run(SRC, py, args=(mode, str(rounds)), expect_rc=3)
                # the same program untraced, in r's directory (its trace is written already)
                e = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
                plain = subprocess.run([py, "app.py", mode, str(rounds)], cwd=r.dir, env=e,
                                       capture_output=True, text=True, timeout=300)
                check(plain.returncode == 3, L + "untraced run exited %d" % plain.returncode)
                check(r.stdout == plain.stdout, L + "output %r, untraced %r" % (r.stdout, plain.stdout))
                res[rounds] = (r, counts(r))
            (r1, (meta1, acc1, notes1)), (r10, (meta10, acc10, notes10)) = res[1], res[10]
            print(L + "rounds 1: %d metadata, %d accesses; rounds 10: %d metadata, %d accesses"
                  % (meta1, acc1, meta10, acc10))
            check(abs(meta10 - meta1) < 900, L + "metadata grows with the accesses to what did not "
                                                 "fit: %d records with 1 round, %d with 10" % (meta1, meta10))
            if mode == "vars":
                check(abs(acc10 - acc1) < 900, L + "%d access records with 1 round, %d with 10: "
                                                   "variables that did not fit are traced after all"
                                                   % (acc1, acc10))
            else:
                check(acc10 - acc1 == 9000, L + "%d access records with 1 round, %d with 10 (want "
                                                "+9000: keys that did not fit stay traced)" % (acc1, acc10))
            for notes in (notes1, notes10):
                check(len(notes) == 1 and TABLE[mode] in notes[0],
                      L + "want one warning naming the %s, got %s" % (TABLE[mode], notes))
            rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json",
                                  os.path.join(r10.dir, "traces")], capture_output=True, text=True,
                                 timeout=300)
            check(rep.returncode in (0, 66), L + "report exited %d: %s" % (rep.returncode, rep.stderr[-2000:]))
            warnings = json.loads(rep.stdout).get("warnings") or []
            check(sum(TABLE[mode] in w for w in warnings) == 1,
                  L + "report does not show the warning once: %s" % warnings)
            print(L + "ok: %s" % notes10[0])

        L = "[%s modules] " % label
        r = run(MODULES, py)
        check(r.stdout == "%d\n" % sum(range(24000)), L + "output %r" % r.stdout)
        written = {a["var"] for a in r.accesses(kind="write") if a["var"].startswith("gen")}
        read = {a["var"] for a in r.accesses(kind="read") if a["var"].startswith("gen")}
        want = {"gen%d.x" % i for i in range(24000)}
        check(written == want and read == want,
              L + "%d of 24000 modules' x written, %d read" % (len(written & want), len(read & want)))
        notes = [x["message"] for x in r.records if x.get("type") == "note"]
        check(not notes, L + "unexpected notes: %s" % notes)
        print(L + "ok: 24000 modules traced")


main()
