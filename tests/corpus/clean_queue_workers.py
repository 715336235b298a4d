"""A worker pool fed by a queue.Queue: workers take jobs, compute, and report through a result
queue; only the main thread updates the module-level totals.  Correct: must stay quiet.
"""
# expect: clean
import queue
import threading

jobs = queue.Queue()
results = queue.Queue()
totals = {"sum": 0, "count": 0}


def worker():
    while True:
        job = jobs.get()
        if job is None:
            jobs.task_done()
            return
        results.put(job * job)
        jobs.task_done()


workers = [threading.Thread(target=worker, name=f"qw-{i}") for i in range(3)]
for w in workers:
    w.start()
for i in range(100):
    jobs.put(i)
for _ in workers:
    jobs.put(None)
jobs.join()
for w in workers:
    w.join()
while not results.empty():
    totals["sum"] += results.get()
    totals["count"] += 1
assert totals["count"] == 100
print(totals)
