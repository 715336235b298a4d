"""t_shim_fork_exec.py — processes: a fork child writes its own trace linked to its parent's
(FORKED, parent_trace_id, parent_thread; the parent's FORK record names the child's trace); exec
leaves the old trace finished (FINISHED|EXEC) and the new program traces itself; a failed exec
carries on tracing; os._exit finishes the trace; multiprocessing with fork, forkserver and spawn
gives readable traces for every process; subprocess children (vfork) are left alone."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402

PY = os.environ["NGR_PYTHON"]
TMP = os.environ["NGR_TMP"]


def traced(name, prog, expect_rc=0, **extra):
    d = os.path.join(TMP, name)
    os.makedirs(d)
    r = subprocess.run([PY, "-c", prog], env=env_for(d, NOGILRACE_HOOKS=0, **extra), cwd=d,
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == expect_rc, "%s: exit %d, stderr %r" % (name, r.returncode, r.stderr[-800:]))
    check(r.stderr == "", "%s: stderr %r" % (name, r.stderr[-800:]))
    ts = {}
    for p in traces_in(d):
        t = read_trace(p)
        ts[t.pid] = t
    return r, ts


# ---- fork from a thread while other threads run ---------------------------------------------
prog = r'''
import os, threading, warnings
warnings.simplefilter('ignore', DeprecationWarning)
stop = threading.Event()
ts = [threading.Thread(target=stop.wait) for _ in range(4)]
[t.start() for t in ts]
def forker():
    pid = os.fork()
    if pid == 0:
        t = threading.Thread(target=lambda: None); t.start(); t.join()
        os._exit(3)
    _, st = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(st), pid)
f = threading.Thread(target=forker); f.start(); f.join()
stop.set(); [t.join() for t in ts]
'''
r, ts = traced("fork", prog)
check(r.stdout.startswith("child 3 "), "fork: %r" % r.stdout)
child_pid = int(r.stdout.split()[2])
check(len(ts) == 2 and child_pid in ts, "fork: traces of pids %s" % list(ts))
child = ts.pop(child_pid)
parent = list(ts.values())[0]
check(parent.finished and child.finished, "fork: both finished (child via os._exit)")
check("forked" in child.flag_names and "forked" not in parent.flag_names, "fork: FORKED flag")
check(child.parent_trace_id == parent.trace_id, "fork: child links to parent's trace")
forks = parent.thread_events("fork")
check(len(forks) == 1 and forks[0][4] == child.trace_id, "fork: FORK record names the child: %s" % forks)
check(child.parent_thread == forks[0][0], "fork: parent_thread is the forking thread")
check(child.process() is not None, "fork: child's metadata carries the process record")
check(len(child.thread_events("spawn")) == 1, "fork: child's own thread recorded")
check(len(parent.thread_events("spawn")) == 5, "fork: parent's threads")
# the child's streams start afresh: none of the parent's threads appear in it
check(set(child.streams) <= {0, child.parent_thread} | {e[2] for e in child.thread_events("spawn")},
      "fork: child streams %s" % list(child.streams))
print("ok: fork")

# ---- exec: the old trace is complete; a failed exec carries on ------------------------------
prog = r'''
import os, sys, threading
t = threading.Thread(target=lambda: None); t.start(); t.join()
try:
    os.execv("/nonexistent/program", ["x"])
except OSError as e:
    print("exec failed", e.errno, flush=True)
t = threading.Thread(target=lambda: None); t.start(); t.join()
os.execv(sys.executable, [sys.executable, "-c", "import threading; t = threading.Thread(target=print, args=('new program',)); t.start(); t.join()"])
'''
r, ts = traced("exec", prog)
check(r.stdout == "exec failed 2\nnew program\n", "exec: %r" % r.stdout)
check(len(ts) == 1, "exec: one pid, two traces expected in one file each: %s" % list(ts))
allt = [read_trace(p) for p in traces_in(os.path.join(TMP, "exec"))]
check(len(allt) == 2, "exec: two traces (before and after exec): %d" % len(allt))
old = [t for t in allt if "exec" in t.flag_names]
new = [t for t in allt if "exec" not in t.flag_names]
check(len(old) == 1 and old[0].finished, "exec: old trace FINISHED|EXEC")
check(len(old[0].thread_events("spawn")) == 2, "exec: threads before and after the failed exec")
check(len(old[0].of("end")) == 1, "exec: one END record after the failed exec was taken back")
check(len(new) == 1 and new[0].finished and len(new[0].thread_events("spawn")) == 1, "exec: new trace")
print("ok: exec, failed exec")

# ---- subprocess (vfork + exec in the child): the parent's trace is untouched ------------------
prog = r'''
import subprocess, sys
r = subprocess.run(["/bin/sh", "-c", "echo from-sh"], capture_output=True, text=True)
print(r.stdout.strip())
r = subprocess.run([sys.executable, "-c", "print('py child')"], capture_output=True, text=True)
print(r.stdout.strip())
'''
r, ts = traced("subprocess", prog)
check(r.stdout == "from-sh\npy child\n", "subprocess: %r" % r.stdout)
check(len(ts) == 2 and all(t.finished for t in ts.values()), "subprocess: parent + python child traces")
check(not any("exec" in t.flag_names for t in ts.values()), "subprocess: the parent did not exec")
print("ok: subprocess")

# ---- multiprocessing ------------------------------------------------------------------------
MP = r'''
import multiprocessing as mp, threading
def work(x):
    t = threading.Thread(target=lambda: None); t.start(); t.join()
    return x * x
if __name__ == "__main__":
    mp.set_start_method("%s")
    with mp.Pool(2) as pool:
        print(sum(pool.map(work, range(20))))
    p = mp.Process(target=work, args=(3,)); p.start(); p.join()
    print("exit", p.exitcode)
'''
for method in ("fork", "forkserver", "spawn"):
    d = os.path.join(TMP, "mp-" + method)
    os.makedirs(d)
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(MP % method)
    r = subprocess.run([PY, "app.py"], cwd=d, env=env_for(d, NOGILRACE_HOOKS=0),
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0 and r.stdout == "2470\nexit 0\n",
          "mp %s: exit %d %r %r" % (method, r.returncode, r.stdout, r.stderr[-800:]))
    traces = [read_trace(p) for p in traces_in(d)]
    # parent + 2 pool workers + 1 process (+ forkserver / resource tracker processes)
    check(len(traces) >= 4, "mp %s: %d traces" % (method, len(traces)))
    spawns = sum(len(t.thread_events("spawn")) for t in traces)
    check(spawns >= 21, "mp %s: the work threads are in the traces (%d spawns)" % (method, spawns))
    for t in traces:
        check(t.process() is not None, "mp %s: pid %d has a process record" % (method, t.pid))
    if method != "spawn":
        check(any("forked" in t.flag_names for t in traces), "mp %s: forked children" % method)
    print("ok: multiprocessing %s: %d traces, %s" % (method, len(traces),
          sorted(",".join(t.flag_names) for t in traces)))
print("fork/exec: ok")
