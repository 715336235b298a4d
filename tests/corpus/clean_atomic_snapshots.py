"""Atomic snapshots while other threads mutate: d.copy(), dict(d), list(d), list(d.items()),
set(s), lst.copy(), lst[:], list(lst), tuple(lst), sorted(d), set(d) are each one operation under
the container's lock in the free-threaded build (read in CPython 3.13's and 3.14's C code and
measured: 0 RuntimeErrors under concurrent mutation).  A snapshot is a read of the whole
container, not an iteration another thread's write can run into: nothing may be reported
(linecache.checkcache's `cache.copy().keys()` was reported in every run of a real suite)."""
# expect: clean
import threading

D = {i: i for i in range(200)}
S = set(range(200))
L = list(range(200))
start = threading.Barrier(3)
stop = threading.Event()
mutating = threading.Event()  # the snapshots start once the mutator runs: both overlap for sure


def mutate():
    start.wait()
    i = 1000
    while not stop.is_set():
        D[i] = i
        D.pop(i - 50, None)
        S.add(i)
        S.discard(i - 50)
        L.append(i)
        L[0] = i
        i += 1
        if i == 1100:
            mutating.set()


def snapshot():
    start.wait()
    mutating.wait()
    n = 0
    for _ in range(300):
        n += len(D.copy()) + len(dict(D)) + len(list(D)) + len(list(D.items()))
        n += len(sorted(D)) + len(set(D)) + len(set(S)) + len(S.copy())
        n += len(L.copy()) + len(L[:]) + len(list(L)) + len(tuple(L))
    stop.set()
    return n


threads = [threading.Thread(target=mutate, name="mutator")] + \
          [threading.Thread(target=snapshot, name=f"snap-{i}") for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(D) > 0)
