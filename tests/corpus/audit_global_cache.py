"""Migration guide, Step 1, audit item 1: a global cache dict filled without a lock.

Every worker looks a key up and fills it on a miss: `if key not in cache: cache[key] = ...` is a
check-then-act on the dict entry; two threads can both miss and both compute and store.

The workers start together (a Barrier) and each fill takes a while: a worker that ran alone
through every fill before the others started (seen once in 300 corpus runs on a busy machine,
when the keys were five and cheap) leaves the others only hits, and then nothing raced.
"""
# expect: check-then-act {mod}.global_cache
import threading

global_cache = {}  # Needs protection


def expensive(key):
    return sum(range(20_000 + key))


def lookup(key):
    if key not in global_cache:
        global_cache[key] = expensive(key)
    return global_cache[key]


def worker(start):
    start.wait()
    for i in range(100):
        lookup(i % 50)


start = threading.Barrier(3)
threads = [threading.Thread(target=worker, args=(start,), name=f"cache-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(global_cache))
