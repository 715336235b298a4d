"""Threads each fill their own keys of a module-level mapping object (a user class with
__getitem__/__setitem__ over a dict, like weakref.WeakValueDictionary): no key is shared, and each
store is one atomic dict operation inside the class.  `REGISTRY[k]` on such an object is told
apart by key, as a dict's items are; nothing may be reported.
"""
# expect: clean
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


def worker(n):
    start.wait()
    for i in range(50):
        key = "w%d-%d" % (n, i)
        if key not in REGISTRY:
            REGISTRY[key] = i
        REGISTRY[key]


threads = [threading.Thread(target=worker, args=(n,), name=f"reg-{n}") for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(REGISTRY.data))
