"""Check-then-act on a container's size: a hand-written bounded cache checks its size, picks the
oldest key and evicts it (`if len(CACHE) >= MAX: del CACHE[next(iter(CACHE))]`) with no lock.  Two
threads that see the cache full at once evict the same key (one gets KeyError) or evict two
entries for one insert."""
# expect: check-then-act {mod}.CACHE
import threading

CACHE = {}
MAX = 32
start = threading.Barrier(3)


def put(key, value):
    if len(CACHE) >= MAX:
        try:
            del CACHE[next(iter(CACHE))]
        # another thread evicted it first (KeyError) or changed the cache under next() (RuntimeError):
        # the race itself.  Caught and not counted: a counter bumped only then would race only sometimes
        except (KeyError, RuntimeError):
            pass
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
