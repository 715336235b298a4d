"""A lost update that does not happen in this run: two threads increment a global, but the second
starts its loop 50 ms after the first has finished.  Nothing orders them (a sleep is not
synchronisation) and no lock is held; a lockset analysis must report the race anyway.
"""
# expect: lost-update {mod}.sequence
import threading
import time

sequence = 0


def bump(delay):
    global sequence
    time.sleep(delay)
    for _ in range(100):
        sequence += 1


threads = [threading.Thread(target=bump, args=(0,), name="first"),
           threading.Thread(target=bump, args=(0.05,), name="second")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sequence)
