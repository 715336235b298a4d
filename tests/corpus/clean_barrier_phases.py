"""Barrier-separated phases: in phase 1 only the leader thread writes the shared plan (no lock),
all threads wait at a Barrier, and in phase 2 every thread reads it.  Correct: must stay quiet.
"""
# expect: clean
import threading

plan = None
barrier = threading.Barrier(3)
seen = []


def worker(i):
    global plan
    if i == 0:
        plan = {"steps": list(range(10))}
        plan["ready"] = True
    barrier.wait()
    seen.append(len(plan["steps"]))


threads = [threading.Thread(target=worker, args=(i,), name=f"phase-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert seen == [10, 10, 10]
print(seen)
