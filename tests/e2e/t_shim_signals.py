"""t_shim_signals.py — SIGSEGV, SIGBUS, SIGABRT under the shim: the same exit status and the same
stderr (faulthandler's traceback included) as without it, with -X faulthandler, with
faulthandler.enable() in the program and without faulthandler; the trace stays readable and notes
the signal."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402

PY = os.environ["NGR_PYTHON"]
TMP = os.environ["NGR_TMP"]

# faulthandler prints every thread's stack, so the crash comes only once all 16 threads sleep in
# stop.wait(): all registered as waiters, and each thread asleep (state S), which after that can
# only be in the waiter lock's acquire.  A thread still on its way there (start() returns before
# the thread reaches its target) would show other lines, different in the two runs compared.
THREADS = ("import threading, time\n"
           "stop = threading.Event()\n"
           "ts = [threading.Thread(target=stop.wait) for _ in range(16)]\n"
           "[t.start() for t in ts]\n"
           "def asleep(t):\n"
           "    with open('/proc/self/task/%d/stat' % t.native_id) as f:\n"
           "        return f.read().rsplit(')', 1)[1].split()[0] == 'S'\n"
           "while len(stop._cond._waiters) < 16 or not all(map(asleep, ts)):\n"
           "    time.sleep(0.001)\n")
CRASHES = {
    "SIGSEGV": (-11, "import ctypes\nctypes.string_at(0)\n"),
    "SIGABRT": (-6, "import os\nos.abort()\n"),
    "SIGBUS": (-7, "import mmap\n"
                   "f = open('bus.dat', 'wb+'); f.write(b'x' * 8192); f.flush()\n"
                   "m = mmap.mmap(f.fileno(), 8192); f.truncate(0)\n"
                   "print(m[4096])\n"),
}
VARIANTS = {"plain": ([], ""), "X-faulthandler": (["-X", "faulthandler"], ""),
            "enable-in-program": ([], "import faulthandler; faulthandler.enable()\n")}


def normalise(err):
    # thread ids differ from run to run
    return re.sub(r"0x[0-9a-f]+", "0x?", err)


for sig, (status, crash) in CRASHES.items():
    for variant, (flags, prelude) in VARIANTS.items():
        prog = prelude + THREADS + crash
        d = os.path.join(TMP, "%s-%s" % (sig, variant))
        os.makedirs(d)
        base = subprocess.run([PY] + flags + ["-c", prog], cwd=d, capture_output=True, text=True,
                              env=dict(os.environ, NOGILRACE_TRACE_DIR=d), timeout=60)
        check(base.returncode == status, "%s %s baseline exit %d" % (sig, variant, base.returncode))
        r = subprocess.run([PY] + flags + ["-c", prog], cwd=d, capture_output=True, text=True,
                           env=env_for(d, NOGILRACE_HOOKS=0), timeout=60)
        check(r.returncode == status, "%s %s: exit %d, want %d; stderr %r"
              % (sig, variant, r.returncode, status, r.stderr[-500:]))
        check(normalise(r.stderr) == normalise(base.stderr),
              "%s %s: stderr differs:\n--- without\n%s\n--- with\n%s" % (sig, variant, base.stderr, r.stderr))
        if variant != "plain":
            check("Fatal Python error" in r.stderr, "%s %s: faulthandler output missing" % (sig, variant))
        ts = traces_in(d)
        check(len(ts) == 1, "%s %s: traces %s" % (sig, variant, ts))
        t = read_trace(ts[0])
        check(not t.finished, "%s %s: a crashed process has no clean end" % (sig, variant))
        check("fatal signal " + sig in t.notes(), "%s %s: notes %s" % (sig, variant, t.notes()))
        check(len(t.thread_events("spawn")) == 16, "%s %s: 16 spawns" % (sig, variant))
        print("ok: %s %s (exit %d)" % (sig, variant, status))
print("signals: ok")
