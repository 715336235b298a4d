"""t_shim_closefds.py — programs that close every descriptor or put files at fixed numbers keep
being traced, and see the semantics they asked for; where tracing does stop, the trace says so.

Each action runs first (os.closerange, a close() loop up to 4096, closefrom, close_range, a fork
child that closes everything as daemons do, dup2 and dup3 onto the trace's number, close of the
trace's number, a subprocess whose child closes its descriptors), then threads race on a global.
Traced and untraced runs print the same (the program reports what it observes: its own file
closed, the file it dup2'ed readable at the number, the closed number EBADF, close_range's errors);
the traced run writes nothing on stderr, its trace is neither DISABLED nor unfinished, and the
race after the action is reported.  A raw dup2 system call onto the trace's number (no libc
function to hook) stops tracing: one stderr line, DISABLED in the header and a warning NOTE saying
why, and the program's file untouched.  Run once per interpreter (interp.py).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402
from interp import interpreters  # noqa: E402

TMP = os.environ["NGR_TMP"]
PYS = interpreters()

PRELUDE = r'''
import ctypes, errno, os, subprocess, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.close_range.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_int]
def trace_fd():
    """The trace's descriptor under the shim; without it, a file at the same number (700), so
    that both runs do the same things."""
    for f in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + f).endswith(".ngrtrace"):
                return int(f)
        except OSError:
            pass
    os.dup2(os.open("placeholder", os.O_RDWR | os.O_CREAT, 0o600), 700)
    return 700
def state(fd):
    try:
        os.fstat(fd)
        return "open"
    except OSError as e:
        return errno.errorcode[e.errno]
mine = os.open("mine", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
other = os.open("other", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(other, b"other file\n")
def race():
    import race_counter  # tests/corpus/helpers: threads racing on race_counter.counter
    print("counter", race_counter.main() > 0, flush=True)
'''

RACE = "race()\n"

ACTIONS = {
    "closerange": 'os.closerange(3, 4096); print("mine", state(mine))',
    "close-loop": r'''
for fd in range(3, 4096):
    try:
        os.close(fd)
    except OSError:
        pass
print("mine", state(mine))''',
    "closefrom": 'libc.closefrom(3); print("mine", state(mine))',
    "close_range": r'''
print("bad range", libc.close_range(9, 4, 0), errno.errorcode[ctypes.get_errno()])
print("bad flags", libc.close_range(3, 9, 0x40000000), errno.errorcode[ctypes.get_errno()])
print("cloexec", libc.close_range(3, 0xffffffff, 4), state(mine))
print("all", libc.close_range(3, 0xffffffff, 0), state(mine))''',
    "daemon": r'''
pid = os.fork()
if pid == 0:
    os.closerange(3, 4096)
    print("child mine", state(mine), flush=True)
    race()
    os._exit(0)
os.waitpid(pid, 0)''',
    "dup2": r'''
fd = trace_fd()
print("dup2", os.dup2(other, fd) == fd)
os.lseek(fd, 0, 0)
print("at the number", os.read(fd, 100))''',
    "dup3": r'''
fd = trace_fd()
print("dup3", os.dup2(other, fd, inheritable=False) == fd, os.get_inheritable(fd))
os.lseek(fd, 0, 0)
print("at the number", os.read(fd, 100))''',
    "close": r'''
fd = trace_fd()
os.close(fd)
print("closed number", state(fd))''',
    "subprocess": 'print("child", subprocess.run(["true"], close_fds=True).returncode)',
}


HELPERS = os.path.join(os.environ["NGR_ROOT"], "tests", "corpus", "helpers")


def run(py, src, d, traced):
    env = env_for(d) if traced else {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["PYTHONPATH"] = HELPERS
    return subprocess.run([py, "-c", src], cwd=d, env=env, capture_output=True, text=True,
                          timeout=120)


def fresh(name):
    d = os.path.join(TMP, name)
    os.makedirs(d)
    return d


for label, py in PYS:
    for name, action in ACTIONS.items():
        src = PRELUDE + action + "\n" + RACE
        base = run(py, src, fresh("%s-%s-plain" % (label, name)), False)
        check(base.returncode == 0, "[%s %s] untraced: %d %s" % (label, name, base.returncode, base.stderr))
        d = fresh("%s-%s" % (label, name))
        r = run(py, src, d, True)
        what = "[%s %s]" % (label, name)
        check(r.returncode == 0 and r.stderr == "", "%s traced: exit %d, stderr %r" % (what, r.returncode, r.stderr))
        check(r.stdout == base.stdout, "%s output differs:\n%s\nvs untraced\n%s" % (what, r.stdout, base.stdout))
        ts = traces_in(d)
        check(len(ts) == (2 if name == "daemon" else 1), "%s traces %s" % (what, ts))
        for tr in ts:
            t = read_trace(tr)
            check(t.finished and "disabled" not in t.flag_names, "%s %s: %s" % (what, tr, t.flag_names))
            check(not [n for n in t.notes() if "tracing stopped" in n], "%s notes %s" % (what, t.notes()))
        rep = subprocess.run([os.environ["NGR_ANALYZER"], "report", d], capture_output=True, text=True,
                             timeout=120)
        check(rep.returncode == 66 and "race_counter.counter" in rep.stdout,
              "%s the race after the action is not reported (%d): %s %s" % (what, rep.returncode,
                                                                         rep.stdout[-1500:], rep.stderr))
        print("ok: %s traced on, same output: %s" % (what, " | ".join(r.stdout.splitlines()[:2])))

    # A raw system call takes the number: tracing stops, and the trace says so.
    if os.uname().machine != "x86_64":
        print("note: raw dup2 case is x86-64 only")
        continue
    src = PRELUDE + r'''
fd = trace_fd()
print("raw dup2", libc.syscall(33, other, fd) == fd)   # SYS_dup2 on x86-64
''' + RACE
    d = fresh("%s-raw" % label)
    r = run(py, src, d, True)
    what = "[%s raw dup2]" % label
    check(r.returncode == 0 and "raw dup2 True" in r.stdout, "%s exit %d %r %r" % (what, r.returncode, r.stdout, r.stderr))
    lines = r.stderr.splitlines()
    check(len(lines) == 1 and "tracing stopped" in lines[0] and "descriptor" in lines[0], "%s stderr %r" % (what, r.stderr))
    with open(os.path.join(d, "other"), "rb") as f:
        check(f.read() == b"other file\n", "%s the program's file was touched" % what)
    t = read_trace(traces_in(d)[0])
    check("disabled" in t.flag_names and t.finished, "%s flags %s" % (what, t.flag_names))
    stops = [n for n in t.notes() if "tracing stopped" in n]
    check(len(stops) == 1 and "closed or replaced the trace file's descriptor" in stops[0],
          "%s notes %s" % (what, t.notes()))
    print("ok: %s stops, DISABLED, note: %s" % (what, stops[0]))
print("closefds: ok")
