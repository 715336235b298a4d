"""t_access_subinterpreters.py — sub-interpreters run unharmed and are named as untraced.

The hooks live in the main interpreter (sys.monitoring and dict watchers are per interpreter), so
what a sub-interpreter runs is not traced.  A program whose threads create sub-interpreters
(concurrent.interpreters from 3.14, the _interpreters module on 3.13), run code in them and
close them, while other threads race on a global of the main interpreter: the output and exit
status are those of the untraced run, the report carries one warning saying a sub-interpreter
was created and is not traced, and the main interpreter's race is still reported.  A program
that creates none gets no such warning.
"""
import os
import subprocess

from t_sync_helpers import Run, check, interpreters

PROG = '''\
import threading
try:
    from concurrent import interpreters

    def run_one():
        interp = interpreters.create()
        interp.exec("x = 0\\nfor i in range(1000):\\n    x += 1\\n")
        interp.close()
except ImportError:  # 3.13
    import _interpreters

    def run_one():
        interp = _interpreters.create()
        _interpreters.run_string(interp, "x = 0\\nfor i in range(1000):\\n    x += 1\\n")
        _interpreters.destroy(interp)

counter = 0


def bump():
    global counter
    for _ in range(1000):
        counter += 1


ts = [threading.Thread(target=bump) for _ in range(2)] + \\
     [threading.Thread(target=run_one) for _ in range(%d)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("done", %d)
'''

NOTE = "a sub-interpreter was created"


def report(tracedir):
    return subprocess.run([os.environ["NGR_ANALYZER"], "report", tracedir], capture_output=True,
                          text=True, timeout=300)


def main():
    for label, py in interpreters():
        for n in (2, 0):
            r = Run(py, "subi%d" % n, PROG % (n, n), label=label)
            r.check_unchanged()
            check(r.proc.returncode == 0 and r.proc.stdout == "done %d\n" % n,
                  "%s: %r %s" % (label, r.proc.stdout, r.proc.stderr[-2000:]))
            rep = report(r.tracedir)
            out = rep.stdout + rep.stderr
            check(rep.returncode == 66 and "subi%d.counter" % n in out,
                  "%s: the main interpreter's race is not reported (exit %d): %s" % (
                      label, rep.returncode, out[-2000:]))
            notes = out.count(NOTE)
            check(notes == (1 if n else 0), "%s, %d sub-interpreters: %d warnings about them: %s" % (
                label, n, notes, out[-2000:]))
        print("ok: %s: sub-interpreters unharmed, named as untraced once" % label)


main()
