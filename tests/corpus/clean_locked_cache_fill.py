"""The fix for the global cache: the membership test and the fill run under one lock; readers
that hit go through the same lock.  Correct: must stay quiet.
"""
# expect: clean
import threading

cache = {}
cache_lock = threading.Lock()


def lookup(key):
    with cache_lock:
        if key not in cache:
            cache[key] = sum(range(key * 10))
        return cache[key]


def worker():
    for i in range(100):
        lookup(i % 5)


threads = [threading.Thread(target=worker, name=f"cache-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache))
