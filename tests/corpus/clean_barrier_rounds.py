"""Barrier rounds done right: in round r only thread r % 3 updates the shared tally (no lock), a
second `barrier.wait()` ends the round, and every thread then reads it.  Each update is ordered
after the previous round's reads and before this round's reads by the barrier.
Correct: must stay quiet.
"""
# expect: clean
import threading

N = 3
tally = 0
barrier = threading.Barrier(N)
seen = []


def worker(i):
    global tally
    for r in range(6):
        barrier.wait()
        if r % N == i:
            tally += 1
        barrier.wait()
        seen.append(tally)


threads = [threading.Thread(target=worker, args=(i,), name=f"round-{i}") for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert tally == 6
print(tally, len(seen))
