"""The fix for iteration during mutation: the registry is iterated and mutated only under its
lock (or iterated over a copy taken under it).  Correct: must stay quiet.
"""
# expect: clean
import threading

registry = {f"k{i}": i for i in range(10)}
registry_lock = threading.Lock()


def snapshot():
    for _ in range(50):
        with registry_lock:
            items = list(registry.items())
        sum(v for _, v in items)
        with registry_lock:
            for k in registry:
                pass


def register():
    for i in range(10, 200):
        with registry_lock:
            registry[f"k{i}"] = i


threads = [threading.Thread(target=snapshot, name="snapshot"), threading.Thread(target=register, name="register")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(registry))
