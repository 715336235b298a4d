"""Lost update on objects held in a module-level list: `JOBS[i].done += 1`, every thread working
on every job with no lock."""
# expect: lost-update {mod}.Job().done
import threading


class Job:
    def __init__(self, n):
        self.n = n
        self.done = 0


JOBS = [Job(n) for n in range(4)]
start = threading.Barrier(3)


def work():
    start.wait()
    for k in range(400):
        JOBS[k % 4].done += 1


threads = [threading.Thread(target=work, name=f"job-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(j.done for j in JOBS))
