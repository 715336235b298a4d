"""Lock striping: one lock per key, created before the threads start.  `COUNTS[k] += 1` always
runs under `LOCKS[k]`; different keys use different locks, which is correct because they are
different items.  Correct: must stay quiet.
"""
# expect: clean
import threading

KEYS = ("alpha", "beta", "gamma")
LOCKS = {k: threading.Lock() for k in KEYS}
COUNTS = {k: 0 for k in KEYS}


def worker(n):
    for i in range(150):
        k = KEYS[(n + i) % len(KEYS)]
        with LOCKS[k]:
            COUNTS[k] += 1


threads = [threading.Thread(target=worker, args=(n,), name=f"stripe-{n}") for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert sum(COUNTS.values()) == 450
print(COUNTS)
