"""The twin of check_then_act_lru_evict.py: the size check, the eviction and the insert under one
lock.  Nothing may be reported."""
# expect: clean
import threading

CACHE = {}
MAX = 32
cache_lock = threading.Lock()
start = threading.Barrier(3)


def put(key, value):
    with cache_lock:
        if len(CACHE) >= MAX:
            del CACHE[next(iter(CACHE))]
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
print(len(CACHE))
