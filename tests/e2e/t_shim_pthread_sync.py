"""t_shim_pthread_sync.py — pthread mutexes, rwlocks, semaphores and condition variables used by
native code (a C library called from Python threads) become lock and happens-before events with
named objects; the interpreter's own pthread use is not recorded (it would add happens-before
edges between all threads), which NOGILRACE_PTHREAD_ALL=1 makes measurable; native stacks on
request."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402

PY = os.environ["NGR_PYTHON"]
TMP = os.environ["NGR_TMP"]

lib = os.path.join(TMP, "libnative.so")
src = os.path.join(TMP, "native.c")
with open(src, "w") as f:
    f.write(r'''
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t s;
static long counter, ready;
void native_init(void) { sem_init(&s, 0, 0); }
long native_work(int n) {
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&m); counter++; pthread_mutex_unlock(&m);
        pthread_rwlock_rdlock(&rw); pthread_rwlock_unlock(&rw);
        pthread_rwlock_wrlock(&rw); pthread_rwlock_unlock(&rw);
    }
    return counter;
}
void native_post(void) { pthread_mutex_lock(&m); ready = 1; pthread_cond_signal(&c); pthread_mutex_unlock(&m); sem_post(&s); }
static void *exits(void *a) { pthread_exit(a); }
static void *waits(void *a) { for (;;) sleep(1); return a; }
int native_threads(void) {
    pthread_t a, b;
    pthread_create(&a, 0, exits, 0);
    pthread_create(&b, 0, waits, 0);
    pthread_cancel(b);
    return pthread_join(a, 0) | pthread_join(b, 0);
}
void native_wait(void) { pthread_mutex_lock(&m); while (!ready) pthread_cond_wait(&c, &m); pthread_mutex_unlock(&m); sem_wait(&s); }
''')
subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-pthread", "-o", lib, src], check=True)

PROG = r'''
import ctypes, threading
lib = ctypes.CDLL(%r)
lib.native_init()
ts = [threading.Thread(target=lib.native_work, args=(1000,)) for _ in range(4)]
w = threading.Thread(target=lib.native_wait)
w.start(); [t.start() for t in ts]; [t.join() for t in ts]
lib.native_post(); w.join()
print(lib.native_work(0))
''' % lib

d = os.path.join(TMP, "native")
os.makedirs(d)
r = subprocess.run([PY, "-c", PROG], env=env_for(d, NOGILRACE_HOOKS=0), capture_output=True, text=True)
check(r.returncode == 0 and r.stdout == "4000\n", "native: %d %r %r" % (r.returncode, r.stdout, r.stderr))
t = read_trace(traces_in(d)[0])
syncs = t.sync_events()
kinds = {}
for s in syncs:
    kinds[s[1]] = kinds.get(s[1], 0) + 1
check(kinds.get("acquire", 0) >= 4000 + 4000 + 2 and kinds.get("release", 0) == kinds.get("acquire"),
      "mutex and write-lock events: %s" % kinds)
check(kinds.get("rd_acquire") == 4000 and kinds.get("rd_release") == 4000, "read-lock events: %s" % kinds)
check(kinds.get("send", 0) >= 2 and kinds.get("recv", 0) >= 1, "semaphore/cond happens-before: %s" % kinds)
objs = {}
for r_ in t.of("sync_obj"):
    objs[r_.words[1]] = (r_.flags, t.strings.get(r_.words[2] & 0xFFFFFFFF))
obj_kinds = {v[0] for v in objs.values()}
check({9, 10, 11, 12} <= obj_kinds, "pthread_mutex/rwlock/sem/cond objects defined: %s" % objs)
check(all(v[1] and v[1].startswith("<pthread_") or v[1].startswith("<sem ") for v in objs.values()),
      "object names: %s" % objs)
check(all(s[2] in objs for s in syncs), "every sync object is defined")
sem_recv = [s for s in syncs if s[1] == "recv" and objs[s[2]][0] == 11]
sem_send = [s for s in syncs if s[1] == "send" and objs[s[2]][0] == 11]
check(len(sem_recv) == 1 and sem_send[0][3] < sem_recv[0][3], "sem_post ordered before sem_wait")
print("ok: native pthread sync", kinds)

# ---- native threads that end by pthread_exit and by cancellation ------------------------------
d = os.path.join(TMP, "native-threads")
os.makedirs(d)
r = subprocess.run([PY, "-c", "import ctypes; print(ctypes.CDLL(%r).native_threads())" % lib],
                   env=env_for(d, NOGILRACE_HOOKS=0), capture_output=True, text=True)
check(r.returncode == 0 and r.stdout == "0\n", "native threads: %r %r" % (r.stdout, r.stderr))
t = read_trace(traces_in(d)[0])
spawned = [e[2] for e in t.thread_events("spawn")]
check(len(spawned) == 2, "native threads: spawns %s" % spawned)
ends = {e[0] for e in t.thread_events("end")}
joins = sorted(e[2] for e in t.thread_events("join"))
check(set(spawned) <= ends, "pthread_exit and cancellation still end the stream: %s %s" % (spawned, ends))
check(joins == sorted(spawned), "joins name the native threads: %s" % joins)
print("ok: pthread_exit and cancellation")

# ---- the interpreter's own pthread use is left out --------------------------------------------
PYONLY = r'''
import threading, queue
q = queue.Queue(); lock = threading.Lock(); cond = threading.Condition(); ev = threading.Event()
def work():
    for i in range(200):
        with lock: pass
        q.put(i)
    with cond: cond.notify_all()
    ev.wait()
ts = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in ts]
for _ in range(1600): q.get()
ev.set(); [t.join() for t in ts]
print("done")
'''
counts = {}
for mode in ("default", "all"):
    d = os.path.join(TMP, "pyonly-" + mode)
    os.makedirs(d)
    extra = {"NOGILRACE_PTHREAD_ALL": 1} if mode == "all" else {}
    r = subprocess.run([PY, "-c", PYONLY], env=env_for(d, NOGILRACE_HOOKS=0, **extra),
                       capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout == "done\n", "pyonly %s: %r" % (mode, r.stderr))
    counts[mode] = len(read_trace(traces_in(d)[0]).sync_events())
check(counts["default"] == 0, "interpreter-internal pthread calls recorded: %d" % counts["default"])
check(counts["all"] > 0, "NOGILRACE_PTHREAD_ALL=1 should show the runtime's own calls")
print("ok: interpreter's own pthread calls filtered: %d sync records without the filter, %d with"
      % (counts["all"], counts["default"]))

# ---- native stacks ---------------------------------------------------------------------------
d = os.path.join(TMP, "nstack")
os.makedirs(d)
r = subprocess.run([PY, "-c", PROG], env=env_for(d, NOGILRACE_HOOKS=0, NOGILRACE_NATIVE_STACKS=1),
                   capture_output=True, text=True)
check(r.returncode == 0 and r.stdout == "4000\n" and r.stderr == "", "nstack: %r" % r.stderr)
t = read_trace(traces_in(d)[0])
stacks = t.of("native_stack")
check(stacks, "native stacks recorded")
frames = set()
for s in stacks:
    ids = []
    for w in s.words[1:]:
        ids += [w & 0xFFFFFFFF, w >> 32]
    frames.update(t.strings.get(i, "") for i in ids[:s.flags])
check(any("native_work" in f and "libnative.so" in f for f in frames), "frames: %s" % sorted(frames)[:10])
with_stack = [r_ for r_ in t.of("sync") if r_.words[3] >> 32]
check(len(with_stack) == len(t.of("sync")), "every native sync event carries its stack id")
print("ok: native stacks:", len(stacks), "distinct")
print("pthread sync: ok")
