"""Check-then-act on a container's size: a hand-written bounded cache checks its size, picks the
oldest key and evicts it (`if len(CACHE) >= MAX: del CACHE[next(iter(CACHE))]`) with no lock.  Two
threads that see the cache full at once evict the same key (one gets KeyError) or evict two
entries for one insert."""
# expect: check-then-act {mod}.CACHE
import threading

CACHE = {}
MAX = 32
start = threading.Barrier(3)
missed = 0


def put(key, value):
    global missed
    if len(CACHE) >= MAX:
        oldest = next(iter(CACHE))
        try:
            del CACHE[oldest]
        except KeyError:  # another thread evicted it first: the race itself
            missed += 1
    CACHE[key] = value


def worker(n):
    start.wait()
    for i in range(400):
        put((n, i), i)


threads = [threading.Thread(target=worker, args=(n,), name=f"lru-{n}") for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(CACHE) <= MAX + 3)
