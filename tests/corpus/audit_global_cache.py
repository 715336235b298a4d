"""Migration guide, Step 1, audit item 1: a global cache dict filled without a lock.

Every worker looks a key up and fills it on a miss: `if key not in cache: cache[key] = ...` is a
check-then-act on the dict entry; two threads can both miss and both compute and store.
"""
# expect: check-then-act {mod}.global_cache
import threading

global_cache = {}  # Needs protection


def expensive(key):
    return sum(range(key * 10))


def lookup(key):
    if key not in global_cache:
        global_cache[key] = expensive(key)
    return global_cache[key]


def worker():
    for i in range(50):
        lookup(i % 5)


threads = [threading.Thread(target=worker, name=f"cache-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(global_cache))
