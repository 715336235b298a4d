"""The twin of lost_update_job_list_items.py: each thread updates only its own job of the
module-level list (`JOBS[i].done += 1` with i the thread's own index), read after join.
Nothing may be reported."""
# expect: clean
import threading


class Job:
    def __init__(self, n):
        self.n = n
        self.done = 0


JOBS = [Job(n) for n in range(3)]
start = threading.Barrier(3)


def work(i):
    start.wait()
    for _ in range(400):
        JOBS[i].done += 1


threads = [threading.Thread(target=work, args=(i,), name=f"job-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(j.done for j in JOBS))
