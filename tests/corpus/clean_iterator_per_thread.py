"""The twin of lost_update_shared_iterator.py: work is split up front and each thread iterates an
iterator of its own; the shared queue of results is a list appended to (atomic).  Nothing may be
reported."""
# expect: clean
import threading

CHUNKS = [range(i, 3000, 3) for i in range(3)]
taken = []
start = threading.Barrier(3)


def worker(i):
    it = iter(CHUNKS[i])
    start.wait()
    for item in it:
        taken.append(item)


threads = [threading.Thread(target=worker, args=(i,), name=f"take-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(taken))
