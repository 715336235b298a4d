"""t_shim_sigkill.py — a 16-thread program killed with SIGKILL at a random moment leaves a trace
that reads cleanly up to the last complete record: every chunk well-formed, sealed chunks pass
their CRC, each thread's lock events still alternate acquire/release, sequence numbers unique."""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402
import interp  # noqa: E402

PY = os.environ["NGR_PYTHON"]
TMP = os.environ["NGR_TMP"]

# 16 workers hammer one pthread mutex from native code (ctypes -> libffi: a caller outside the
# interpreter, so every lock/unlock is recorded), and short-lived threads come and go meanwhile.
PROG = r'''
import ctypes, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
mutex = ctypes.create_string_buffer(64)
libc.pthread_mutex_init(mutex, None)
lock, unlock = libc.pthread_mutex_lock, libc.pthread_mutex_unlock
def worker():
    while True:
        for _ in range(20):
            lock(mutex); unlock(mutex)
        time.sleep(0.001)
def churn():
    while True:
        t = threading.Thread(target=lambda: None); t.start(); t.join()
for _ in range(15):
    threading.Thread(target=worker, daemon=True).start()
threading.Thread(target=churn, daemon=True).start()
print("started", flush=True)
threading.Event().wait()
'''

rng = random.Random()
seed = rng.randrange(1 << 30)
rng.seed(seed)
print("seed", seed)
for run in range(3):
    d = os.path.join(TMP, "kill%d" % run)
    os.makedirs(d)
    p = subprocess.Popen([PY, "-c", PROG], env=env_for(d, NOGILRACE_HOOKS=0),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line != "started\n":
        p.kill()
        check(False, "program did not start: %r %r" % (line, p.communicate()[1]))
    delay = rng.uniform(0.05, 0.6)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()
    check(p.returncode == -signal.SIGKILL, "exit %s" % p.returncode)
    ts = traces_in(d)
    check(len(ts) == 1, "traces %s" % ts)
    t = read_trace(ts[0])  # raises on a malformed chunk, record or CRC
    check(not t.finished, "a killed process cannot have finished its trace")
    syncs = t.sync_events()
    check(len(syncs) > 1000, "only %d sync records after %.2fs" % (len(syncs), delay))
    seqs = [s[3] for s in syncs] + [e[3] for e in t.thread_events()]
    check(len(seqs) == len(set(seqs)), "duplicate sequence numbers")
    # The workers' mutex, and at most a few others taken a few times by native libraries at
    # start (3.14's _ctypes import allocates a libffi closure under libffi's own mutexes).
    uses = {}
    for s in syncs:
        if s[1] in ("acquire", "release"):
            uses[s[2]] = uses.get(s[2], 0) + 1
    hammered = [m for m, n in uses.items() if n > 100]
    check(len(hammered) == 1, "one hammered mutex expected: %s" % uses)
    check(sum(uses.values()) - uses[hammered[0]] <= 16, "other mutexes used often: %s" % uses)
    per_thread = {}
    for s in syncs:
        if s[1] in ("acquire", "release"):
            per_thread.setdefault((s[0], s[2]), []).append(s[1])
    for (stream, mutex), kinds in per_thread.items():
        for i, k in enumerate(kinds):
            check(k == ("acquire" if i % 2 == 0 else "release"),
                  "thread %d, mutex %x: event %d is %s, acquire/release must alternate"
                  % (stream, mutex, i, k))
    spawned = {e[2] for e in t.thread_events("spawn")}
    begun = {e[0] for e in t.thread_events("begin")}
    check(len(spawned) >= 16, "16 threads at least: %d" % len(spawned))
    check(begun <= spawned | {1}, "every BEGIN belongs to a spawned thread")
    # The analyzer reads the same killed trace, with the same events.
    an = os.environ.get("NGR_ANALYZER", "")
    if os.access(an, os.X_OK):
        dj = subprocess.run([an, "dump", "--json", ts[0]], capture_output=True, text=True)
        check(dj.returncode == 0, "dump --json exit %d: %s" % (dj.returncode, dj.stderr[-300:]))
        n = dj.stdout.count('"type":"sync"')
        check(n == len(syncs), "dump --json sees %d sync records, the reader %d" % (n, len(syncs)))
    print("ok: killed after %.2fs: %d sync records, %d threads, %d sealed + %d open chunks"
          % (delay, len(syncs), len(begun), t.sealed, t.unsealed))
# ---- the same with the CPython hooks: access records cut off mid-stream ---------------------
PYPROG = r'''
import threading
counter = 0
cache = {}
lock = threading.Lock()
go = threading.Event()     # with the GIL, workers started first would run millions of loops
def worker(i):             # before the last one starts
    global counter
    go.wait()
    while True:
        counter += 1
        cache[i] = counter
        with lock:
            counter += 1
for i in range(16):
    threading.Thread(target=worker, args=(i,), daemon=True).start()
print("started", flush=True)
go.set()
threading.Event().wait()
'''
hooks = os.path.join(os.environ["NGR_BUILD"], "nogilrace-%s.so" % interp.tag())
nm = subprocess.run(["nm", "-D", "--defined-only", hooks], capture_output=True, text=True)
if "ngr_hooks_init" in nm.stdout:
    d = os.path.join(TMP, "kill-hooks")
    os.makedirs(d)
    p = subprocess.Popen([PY, "-c", PYPROG], env=env_for(d), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line != "started\n":
        p.kill()
        check(False, "hooks program did not start: %r %r" % (line, p.communicate()[1]))
    # Killed once the trace holds a random amount of data (it grows a chunk at a time), not after
    # a random time: the cut-off is as arbitrary, and reading the trace back in Python costs the
    # same on every interpreter (the GIL build records several times more accesses a second).
    want = rng.randrange(4 << 20, 24 << 20)
    start = time.monotonic()
    while time.monotonic() - start < 60:
        ts = traces_in(d)
        if ts and os.path.getsize(ts[0]) >= want:
            break
        time.sleep(0.002)
    delay = time.monotonic() - start
    p.send_signal(signal.SIGKILL)
    p.wait()
    t = read_trace(traces_in(d)[0])
    acc = t.of("access")
    check(len(acc) > 1000 and not t.finished, "hooks: %d accesses" % len(acc))
    an = os.environ.get("NGR_ANALYZER", "")
    if os.access(an, os.X_OK):
        dj = subprocess.run([an, "dump", "--json", traces_in(d)[0]], capture_output=True, text=True)
        check(dj.returncode == 0, "hooks: dump exit %d: %s" % (dj.returncode, dj.stderr[-300:]))
        n = dj.stdout.count('"type":"access"')
        check(n == len(acc), "hooks: dump sees %d accesses, the reader %d" % (n, len(acc)))
    print("ok: with CPython hooks, killed after %.2fs (trace %d bytes or more): %d accesses"
          % (delay, want, len(acc)))
else:
    print("note: no real hooks library in this build; access records not exercised")
print("sigkill: ok")
