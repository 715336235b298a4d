"""Threads take work items from one module-level iterator with next(): the iterator's position is
read and moved in two steps (free-threaded 3.13 list iterators can hand one item to two threads)."""
# expect: lost-update {mod}.TASKS
import threading

TASKS = iter(range(3000))
taken = []
start = threading.Barrier(3)


def worker():
    start.wait()
    while True:
        item = next(TASKS, None)
        if item is None:
            break
        taken.append(item)


threads = [threading.Thread(target=worker, name=f"take-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(taken))
