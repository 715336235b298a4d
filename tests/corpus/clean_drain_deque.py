"""The fixes for check_then_act_empty_check.py: half the workers drain a module-level deque with
a lock around the emptiness test and the pop, the other half without any test at all (EAFP:
`popleft()` and catch IndexError — one atomic operation).  Correct: must stay quiet.
"""
# expect: clean
import collections
import threading

locked_jobs = collections.deque(range(200))
eafp_jobs = collections.deque(range(200))
lock = threading.Lock()
done = []


def drain_locked():
    while True:
        with lock:
            if not locked_jobs:
                return
            job = locked_jobs.popleft()
        done.append(job)


def drain_eafp():
    while True:
        try:
            job = eafp_jobs.popleft()
        except IndexError:
            return
        done.append(job)


threads = [threading.Thread(target=drain_locked, name=f"locked-{i}") for i in range(2)] + \
          [threading.Thread(target=drain_eafp, name=f"eafp-{i}") for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(done) == 400
print(len(done))
