"""Migration guide, "Thread-safe singleton pattern": `__new__` with a class-level lock and
double-checked locking.  Correct: must stay quiet.
"""
# expect: clean
import threading


class Singleton:
    _instance = None
    _lock = threading.Lock()

    def __new__(cls):
        if cls._instance is None:
            with cls._lock:
                # Double-checked locking
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
        return cls._instance


def worker(out):
    for _ in range(30):
        out.append(Singleton())


out = []
threads = [threading.Thread(target=worker, args=(out,), name=f"single-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
s1 = Singleton()
s2 = Singleton()
assert s1 is s2  # Same instance
assert all(o is s1 for o in out)
print("same instance")
