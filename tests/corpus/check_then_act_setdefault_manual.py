"""Check-then-act on a dict membership test creating per-key lists (a hand-written setdefault).

`if name not in groups: groups[name] = []` then appending: two threads can each install a fresh
list for the same key and one thread's item is lost with the list it appended to.  The workers
start together (a Barrier) and walk 60 keys, so that more than one thread installs lists: with
three keys one worker could fill them all before the others started (3.14t starts threads more
slowly), and then nothing raced.
"""
# expect: check-then-act {mod}.groups
import threading

groups = {}


def add(name, item):
    if name not in groups:
        groups[name] = []
    groups[name].append(item)


start = threading.Barrier(3)


def worker(n):
    start.wait()
    for i in range(120):
        add(f"g{i % 60}", (n, i))


threads = [threading.Thread(target=worker, args=(n,), name=f"grp-{n}") for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(len(v) for v in groups.values()), "of", 360)
