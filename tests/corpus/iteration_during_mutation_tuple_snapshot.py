"""The twin of clean_atomic_snapshots.py: copies that walk the container item by item with an
iterator — tuple(d), a comprehension, sum(d.values()) — while another thread mutates it.  They raise
"dictionary changed size during iteration" or return a torn result (measured on 3.13t and 3.14t)."""
# expect: iteration-during-mutation {mod}.D
import threading

D = {i: i for i in range(200)}
start = threading.Barrier(2)
stop = threading.Event()
mutating = threading.Event()  # the snapshots start once the mutator runs: both overlap for sure
errors = []


def mutate():
    start.wait()
    i = 1000
    while not stop.is_set():
        D[i] = i
        D.pop(i - 50, None)
        i += 1
        if i == 1100:
            mutating.set()


def snapshot():
    start.wait()
    mutating.wait()
    for _ in range(300):
        try:
            len(tuple(D))
            len([k for k in D])
            sum(D.values())
        except RuntimeError as e:
            errors.append(e)
    stop.set()


threads = [threading.Thread(target=mutate, name="mutator"), threading.Thread(target=snapshot, name="snap")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(D) > 0)
