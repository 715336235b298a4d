"""t_shim_exit_status.py — a traced script ends exactly as it would untraced.

Scripts run as files (`python app.py`, the path where CPython 3.14 deletes __main__.__file__
while the script's exception is still pending, under our dict watcher) and with -c, ending in
SystemExit with a code, sys.exit() from a function, an uncaught exception, a SystemExit whose
code is a string: the exit status, stdout and stderr are those of the untraced run.
"""
import os
import subprocess
import sys

PY = os.environ["NGR_PYTHON"]
TMP = os.environ["NGR_TMP"]

CASES = {
    "raise_systemexit": "raise SystemExit(7)\n",
    "sys_exit_in_function": "import sys\ncounter = 0\ndef main():\n    global counter\n"
                            "    counter += 1\n    return 5\nsys.exit(main())\n",
    "uncaught": "cache = {}\ncache['k'] = 1\nraise ValueError('boom')\n",
    "exit_with_message": "import sys\nsys.exit('bye')\n",
    "caught_then_reraised": "import sys\ntry:\n    sys.exit(3)\nexcept SystemExit:\n"
                            "    print('cleanup')\n    raise\n",
}


def run(args, traced):
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    if traced:
        env["LD_PRELOAD"] = os.environ["NGR_PRELOAD"]
        env["NOGILRACE_TRACE_DIR"] = os.path.join(TMP, "traces")
    return subprocess.run([PY] + args, cwd=TMP, env=env, capture_output=True, text=True,
                          timeout=120)


def main():
    os.makedirs(os.path.join(TMP, "traces"))
    failures = []
    for name, src in CASES.items():
        path = os.path.join(TMP, name + ".py")
        with open(path, "w") as f:
            f.write(src)
        for how, args in (("file", [path]), ("-c", ["-c", src])):
            plain, traced = run(args, False), run(args, True)
            got = (traced.returncode, traced.stdout, traced.stderr)
            want = (plain.returncode, plain.stdout, plain.stderr)
            if got != want:
                failures.append("%s (%s): traced %r, untraced %r" % (name, how, got, want))
            else:
                print("ok: %s (%s) -> %d" % (name, how, plain.returncode))
    traces = os.listdir(os.path.join(TMP, "traces"))
    if len(traces) != 2 * len(CASES):
        failures.append("%d traces for %d traced runs" % (len(traces), 2 * len(CASES)))
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
