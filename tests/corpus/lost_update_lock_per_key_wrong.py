"""Lock striping done wrong: the lock is chosen by the thread, not by the key, so two threads
update the same `COUNTS[k]` under different locks: a lost update on the dict entry.
"""
# expect: lost-update {mod}.COUNTS
import threading

KEYS = ("alpha", "beta", "gamma")
LOCKS = [threading.Lock() for _ in range(3)]
COUNTS = {k: 0 for k in KEYS}


def worker(n):
    for i in range(150):
        k = KEYS[i % len(KEYS)]
        with LOCKS[n]:          # wrong: should be the key's lock
            COUNTS[k] += 1


threads = [threading.Thread(target=worker, args=(n,), name=f"stripe-{n}") for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(COUNTS)
