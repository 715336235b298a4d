"""t_access_lazy_imports.py — 3.15's lazy imports are not the program's writes.

`lazy import json` binds a placeholder in the module's globals; the first use, in whichever
thread, imports the module and replaces the placeholder by it (`lazy from m import NAME`: by the
imported object, here a dict and an int).  That replacement is CPython's own synchronised work:
threads that first use the same lazy names at once (released together by a Barrier) must give no
finding and no write record of those globals from the workers, while a real race in the same
program (a counter) is still reported, and a lazily imported dict used afterwards is traced (under
its first name, lzhelper.TABLE).  The program's output and exit status are those of the untraced run.  Before
3.15 there is no `lazy import` syntax: skipped.
"""
import json
import os
import subprocess
import sys

from t_sync_helpers import Run, check, interpreters

HELPER = '''\
TABLE = {"a": 1}
LIMIT = 7
'''

PROG = '''\
import threading
lazy import json
lazy from lzhelper import TABLE, LIMIT

start = threading.Barrier(4)
hits = 0


def worker(i):
    global hits
    start.wait()
    s = json.dumps([i, LIMIT])
    TABLE["t%d" % i] = len(s)
    hits += 1


threads = [threading.Thread(target=worker, args=(i,), name="lz-%d" % i) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(TABLE), type(json).__name__)
'''


def version(py):
    out = subprocess.run([py, "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def main():
    ran = 0
    for label, py in interpreters():
        if version(py) < (3, 15):
            print("note: %s is older than 3.15: no lazy imports" % label)
            continue
        ran += 1
        d = os.path.join(os.environ["NGR_TMP"], "lazy-" + label)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "lzhelper.py"), "w") as f:
            f.write(HELPER)
        r = Run(py, "lazyapp", PROG, label=label, env={"PYTHONPATH": d})
        r.check_unchanged()
        check(r.proc.returncode == 0 and "module" in r.proc.stdout, "%s: %r %s" % (
            label, r.proc.stdout, r.proc.stderr[-2000:]))
        workers = {r.thread_of("lz-%d" % i) for i in range(4)}
        for name in ("json", "TABLE", "LIMIT"):
            writes = [a for a in r.accesses(var="lazyapp." + name) if a["kind"] in ("write", "delete")
                      and a["thread"] in workers]
            check(not writes, "%s: a worker's first use of lazy %s recorded as a write: %s" % (
                label, name, writes[:2]))
        items = [a for a in r.accesses() if a["var"] == "lzhelper.TABLE" and a["thread"] in workers]
        check(len(items) >= 4, "%s: the lazily imported dict's items were not traced: %s" % (
            label, sorted({a["var"] for a in r.accesses() if "TABLE" in a["var"]})))
        rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", "--format=json", r.tracedir],
                             capture_output=True, text=True, timeout=300)
        check(rep.returncode in (0, 66), "%s: report exited %d: %s" % (label, rep.returncode,
                                                                      rep.stderr[-2000:]))
        found = {(f["kind"], f["variable"]) for f in json.loads(rep.stdout)["races"]}
        names = {v for _, v in found}
        check(not names & {"lazyapp.json", "lazyapp.LIMIT", "lazyapp.TABLE", "lzhelper.TABLE"},
              "%s: findings on lazy imports: %s" % (label, sorted(found)))
        check("lazyapp.hits" in names, "%s: the real race on hits was not reported: %s" % (
            label, sorted(found)))
        print("ok: %s: lazy imports first used by 4 threads at once: no write, no finding" % label)
    if not ran:
        print("skip: no interpreter of 3.15 or later")
        sys.exit(77)


main()
