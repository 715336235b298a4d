"""A lock-protected shared cache with a high hit rate (about 99%).

usage: w_cache.py THREADS SIZE   (or env NGR_BENCH_THREADS / NGR_BENCH_SIZE).  SIZE lookups in total
over KEYS distinct keys.  Prints the hit and miss counts: misses == KEYS whatever the threads.
"""
import os
import sys
import threading

KEYS = 500
USE_WORK = 300
CACHE = {}
CACHE_LOCK = threading.Lock()
STATS = {"hits": 0, "misses": 0}


def expensive(key):
    v = key
    for _ in range(50):
        v = (v * 1103515245 + 12345) & 0x7fffffff
    return v


def lookup(key):
    with CACHE_LOCK:
        value = CACHE.get(key)
        if value is not None:
            STATS["hits"] += 1
            return value
        value = expensive(key)
        CACHE[key] = value
        STATS["misses"] += 1
        return value


def use(value):
    # What the caller does with the cached value, outside the lock.
    v = value
    for _ in range(USE_WORK):
        v = (v * 69069 + 1) & 0xffffffff
    return v


def worker(start, stop, out, slot):
    acc = 0
    for i in range(start, stop):
        acc ^= use(lookup(i * 7919 % KEYS))
    out[slot] = acc


def args():
    threads = int(os.environ.get("NGR_BENCH_THREADS") or sys.argv[1])
    size = int(os.environ.get("NGR_BENCH_SIZE") or sys.argv[2])
    return threads, size


def main():
    threads, size = args()
    out = [0] * threads
    per = size // threads
    ts = [threading.Thread(target=worker, args=(k * per, (k + 1) * per, out, k), name=f"cache-{k}")
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("check", STATS["hits"] + STATS["misses"], STATS["misses"], len(CACHE))


if __name__ == "__main__":
    main()
