"""Migration guide, Step 1, audit item 3: lazy initialisation with check-then-act.

`if _singleton is None: _singleton = Expensive()` with no lock: two threads may both see None and
both construct, and each may hand out a different instance.
"""
# expect: check-then-act {mod}._singleton
# also-ok: lost-update {mod}._singleton -- when two threads both pass the None check, the later store overwrites the earlier thread's object: the analyzer may also report that read/write pair as a lost update of the same variable
import threading
import time


class Expensive:
    def __init__(self):
        time.sleep(0.001)


_singleton = None


def get_singleton():
    global _singleton
    if _singleton is None:  # Check-then-act
        _singleton = Expensive()
    return _singleton


def worker(seen):
    for _ in range(20):
        seen.append(get_singleton())


seen = []
threads = [threading.Thread(target=worker, args=(seen,), name=f"user-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len({id(s) for s in seen}), "instance(s)")
