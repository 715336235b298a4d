"""Check-then-act on a container's emptiness: `if pending: job = pending.popleft()` on a
module-level deque, with no lock.  Two threads can both see one remaining job and both pop: the
second `popleft()` raises IndexError.  Each operation alone is atomic; the test and the pop are
not one step.  (Fix: `try: pending.popleft() except IndexError`, a lock around both, or a
queue.Queue.)
"""
# expect: check-then-act {mod}.pending
import collections
import threading

pending = collections.deque(range(300))
done = []


def worker():
    while True:
        if pending:
            try:
                done.append(pending.popleft())
            except IndexError:
                pass  # the race happened for real
        else:
            return


threads = [threading.Thread(target=worker, name=f"drain-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(done), "jobs")
