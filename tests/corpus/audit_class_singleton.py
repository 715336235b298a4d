"""Migration guide, Step 1: a class-level singleton created in `__new__` without a lock.

`if cls._instance is None: cls._instance = super().__new__(cls)` is a check-then-act on the class
attribute; the guide's fix (fix_locked_new_singleton.py) adds a lock and a second check.
"""
# expect: check-then-act {mod}.Registry._instance
# also-ok: lost-update {mod}.Registry._instance -- when two threads both pass the None check, the later store overwrites the earlier thread's object: the analyzer may also report that read/write pair as a lost update of the same variable
import threading


class Registry:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance


def worker(out):
    for _ in range(30):
        out.append(Registry())


out = []
threads = [threading.Thread(target=worker, args=(out,), name=f"reg-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len({id(r) for r in out}), "instance(s)")
