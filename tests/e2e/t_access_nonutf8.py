"""t_access_nonutf8.py — a script whose path is not valid UTF-8 (b'.../x\\xff/app\\xfe.py') is named
like any other: the module by its file stem, the frames by the path, with the bytes that are not
UTF-8 written as \\xNN (Python keeps them as surrogates; the trace holds UTF-8).  Before, the frames
had an empty file name and the variable was `__main__.counter`.  A lock created there is named
with the same escaped file name.
"""
import json
import os
import subprocess

from t_access_lib import check, interpreters

SRC = b"""\
import threading
counter = 0
lock = threading.Lock()
def bump():
    global counter
    counter += 1          # line 6
with lock:
    pass
ts = [threading.Thread(target=bump) for _ in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]
print(counter)
"""


def main():
    tmp = os.environ["NGR_TMP"].encode()
    for label, py in interpreters():
        d = os.path.join(tmp, label.encode() + b"-x\xff")
        os.makedirs(d)
        script = os.path.join(d, b"app\xfe.py")
        with open(script, "wb") as f:
            f.write(SRC)
        tr = os.path.join(tmp, label.encode() + b"-traces")
        os.makedirs(tr)
        env = dict(os.environb)
        env[b"LD_PRELOAD"] = os.environ["NGR_PRELOAD"].encode()
        env[b"NOGILRACE_TRACE_DIR"] = tr
        p = subprocess.run([py.encode(), script], env=env, capture_output=True, timeout=120)
        check(p.returncode == 0 and p.stdout == b"2\n", "[%s] %d %r %r" % (label, p.returncode, p.stdout, p.stderr))
        dump = subprocess.run([os.environ["NGR_ANALYZER"], "dump", "--json", tr], capture_output=True,
                              text=True, timeout=120)
        check(dump.returncode == 0, "[%s] dump: %s" % (label, dump.stderr))
        recs = [json.loads(x) for x in dump.stdout.splitlines() if x.strip()]
        acc = [r for r in recs if r.get("type") == "access"]
        names = sorted({r["var"] for r in acc})
        want_file = os.fsdecode(d).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") \
            + "/app\\xfe.py"
        check("app\\xfe.counter" in names, "[%s] variables %s" % (label, names))
        mine = [r for r in acc if r["var"] == "app\\xfe.counter" and r["stack"]
                and r["stack"][0]["function"] == "bump"]
        check(mine, "[%s] no access in bump() with a stack" % label)
        top = mine[0]["stack"][0]
        check(top["file"] == want_file and top["line"] == 6 and top["function"] == "bump",
              "[%s] frame %r, want file %r line 6" % (label, top, want_file))
        locks = [r for r in recs if r.get("type") == "sync"]
        named = {str(r.get("obj")) for r in locks}
        check(any("app\\xfe.lock" in n for n in named), "[%s] lock names %s" % (label, sorted(named)[:5]))
        procs = [r for r in recs if r.get("type") == "process"]
        check(procs and procs[0]["cmdline"].endswith(" " + want_file),
              "[%s] command line %r" % (label, procs and procs[0]["cmdline"]))
        print("ok: [%s] %s, frame %s:%d" % (label, "app\\xfe.counter", top["file"], top["line"]))
    print("nonutf8: ok")


if __name__ == "__main__":
    main()
