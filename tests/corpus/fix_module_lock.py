"""The audit list fixed with a module-level lock around every update: the counter, the cache fill
and a class-attribute counter all go through `_lock`.  Correct: must stay quiet.
"""
# expect: clean
import threading

_lock = threading.Lock()
instance_count = 0
global_cache = {}


class Stats:
    created = 0


def make(key):
    global instance_count
    with _lock:
        instance_count += 1
        Stats.created += 1
        if key not in global_cache:
            global_cache[key] = key * 2
        return global_cache[key]


def worker():
    for i in range(200):
        make(i % 7)


threads = [threading.Thread(target=worker, name=f"locked-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert instance_count == 600 and Stats.created == 600
print(instance_count, len(global_cache))
