"""Migration guide, Step 1, audit item 2: a module-level counter (`instance_count += 1`).

Each constructor call does a read-modify-write of the global with no lock: a lost update.
"""
# expect: lost-update {mod}.instance_count
import threading

instance_count = 0  # Race condition


class Widget:
    def __init__(self):
        global instance_count
        instance_count += 1


def worker():
    for _ in range(200):
        Widget()


threads = [threading.Thread(target=worker, name=f"maker-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(instance_count)
