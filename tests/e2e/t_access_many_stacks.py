"""t_access_many_stacks.py — a program with more distinct Python stacks than the stack table's
primary holds (32,768) still gets a stack on every access.

A whole test suite run under the tracer (pytest with its many tests, or `python -m test`) reaches
tens of thousands of distinct stacks.  The program compiles N = 45,000 functions f0..f44999 (one
exec of generated source, so each has its own code object and line), then 4 threads call them,
a quarter each: every call writes the global G at a stack never seen before.  Checked, for the
free-threaded and the GIL build:

* output and exit status (5) are those of the untraced program;
* every f<i> has its write of app.G traced, and that write's innermost frame is f<i> at its line
  in gen.py, its caller main.<locals>.run() — the ones after the first ~30,000 stacks too;
* no "stack table full" warning note.

Before the spill table, the primary's probe windows filled after about 30,000 stacks: the rest
of the writes came without a stack and the run carried the warning.
"""
import json
import os
import re
import subprocess
import textwrap

from t_access_lib import check, interpreters

N = 45000

SRC = """\
    import sys
    import threading

    N = %d
    G = None


    def main():
        src = "".join("def f%%d():\\n    global G\\n    G = %%d\\n" %% (i, i) for i in range(N))
        exec(compile(src, "gen.py", "exec"), globals())
        fs = [globals()["f%%d" %% i] for i in range(N)]

        def run(part):
            for f in part:
                f()

        ts = [threading.Thread(target=run, args=(fs[k::4],)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print("called", len(fs), type(G).__name__)
        return 5


    sys.exit(main())
""" % N

WRITE_G = re.compile(r'"type":"access".*"kind":"write".*"var":"app\.G"')


def main():
    for label, py in interpreters():
        L = "[%s] " % label
        d = os.path.join(os.environ["NGR_TMP"], "stacks_" + label)
        tr = os.path.join(d, "traces")
        os.makedirs(tr)
        with open(os.path.join(d, "app.py"), "w") as f:
            f.write(textwrap.dedent(SRC))
        plain_env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        plain = subprocess.run([py, "app.py"], cwd=d, env=plain_env, capture_output=True,
                               text=True, timeout=120)
        check(plain.returncode == 5, L + "untraced run exited %d: %s" % (plain.returncode,
                                                                         plain.stderr[-2000:]))
        e = dict(os.environ, LD_PRELOAD=os.environ["NGR_PRELOAD"], NOGILRACE_TRACE_DIR=tr)
        p = subprocess.run([py, "app.py"], cwd=d, env=e, capture_output=True, text=True,
                           timeout=300)
        check(p.returncode == 5, L + "traced run exited %d (want 5): %s" % (p.returncode,
                                                                          p.stderr[-2000:]))
        check(p.stdout == plain.stdout, L + "output %r, untraced %r" % (p.stdout, plain.stdout))
        dump = subprocess.run([os.environ["NGR_ANALYZER"], "dump", "--json", tr],
                              capture_output=True, text=True, timeout=300)
        check(dump.returncode == 0, L + "dump --json failed: %s" % dump.stderr[-2000:])

        good, bad, notes = set(), [], []
        for line in dump.stdout.splitlines():
            if '"type":"note"' in line:
                notes.append(json.loads(line)["message"])
                continue
            if not WRITE_G.search(line):
                continue
            r = json.loads(line)
            st = r["stack"]
            if st and st[0]["function"] == "<module>":
                continue  # G = None
            fn = st[0]["function"] if st else None
            if not fn or not fn.startswith("f") or not fn[1:].isdigit():
                bad.append(st)
                continue
            i = int(fn[1:])
            # f<i> is lines 3i+1..3i+3 of gen.py; `G = i` is its third line
            ok = (os.path.basename(st[0]["file"]) == "gen.py" and st[0]["line"] == 3 * i + 3 and
                  len(st) >= 2 and st[1]["function"].endswith("run"))
            (good.add(i) if ok else bad.append(st))
        missing = sorted(set(range(N)) - good)
        check(not bad and not missing,
              L + "%d of %d writes of app.G carry their f<i> stack; %d missing (first %s), "
                  "%d with a wrong or no stack (first %s)"
              % (len(good), N, len(missing), missing[:5], len(bad), bad[:2]))
        full = [m for m in notes if "stack table full" in m]
        check(not full, L + "stack table warning: %s" % full)
        print(L + "ok: %d distinct stacks, each write of app.G under its own function; notes %s"
              % (len(good), notes))


main()
