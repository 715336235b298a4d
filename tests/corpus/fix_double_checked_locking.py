"""Migration guide, Step 2: the lazy initialisation fixed with double-checked locking.

The unlocked first check is a read; the create happens only after a second check under
`_singleton_lock`.  Correct: must stay quiet.
"""
# expect: clean
import threading
import time


class Expensive:
    def __init__(self):
        time.sleep(0.001)


_singleton_lock = threading.Lock()
_singleton = None


def get_singleton():
    global _singleton
    if _singleton is None:
        with _singleton_lock:
            if _singleton is None:  # Double-check
                _singleton = Expensive()
    return _singleton


def worker(seen):
    for _ in range(30):
        seen.append(get_singleton())


seen = []
threads = [threading.Thread(target=worker, args=(seen,), name=f"user-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len({id(s) for s in seen}) == 1
print("one instance")
