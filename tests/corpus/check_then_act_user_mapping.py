"""Check-then-act on one key of a module-level mapping object (a user class with
__getitem__/__setitem__/__contains__ over a dict): `if key not in REGISTRY: REGISTRY[key] = make()`
from several threads installs the shared entry more than once, and threads end up with different
objects for the same key.  The twin of clean_user_mapping_per_key.py, where keys are not shared.
"""
# expect: check-then-act {mod}.REGISTRY
import threading


class Registry:
    def __init__(self):
        self.data = {}

    def __getitem__(self, key):
        return self.data[key]

    def __setitem__(self, key, value):
        self.data[key] = value

    def __contains__(self, key):
        return key in self.data


REGISTRY = Registry()
start = threading.Barrier(4)
seen = set()


def worker(n):
    start.wait()
    for i in range(50):
        key = "shared-%d" % i
        if key not in REGISTRY:
            REGISTRY[key] = object()
        seen.add(id(REGISTRY[key]))


threads = [threading.Thread(target=worker, args=(n,), name=f"reg-{n}") for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(REGISTRY.data))
