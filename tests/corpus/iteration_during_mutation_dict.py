"""Iteration during mutation of a module-level dict: a snapshot loop while another thread adds keys.

On a real collision the iterator raises "dictionary changed size during iteration".
"""
# expect: iteration-during-mutation {mod}.registry
import threading

registry = {f"k{i}": i for i in range(10)}
errors = []


def snapshot():
    for _ in range(50):
        try:
            total = 0
            for k in registry:
                total += 1
        except RuntimeError as e:
            errors.append(e)


def register():
    for i in range(10, 200):
        registry[f"k{i}"] = i


threads = [threading.Thread(target=snapshot, name="snapshot"), threading.Thread(target=register, name="register")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(registry), "keys,", len(errors), "iteration errors")
