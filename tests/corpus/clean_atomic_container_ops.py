"""Single atomic operations of built-in containers from several threads: `list.append`,
`d[k] = v` with each thread's own keys, `set.add`, `dict.setdefault`, `d.get`.  Each is one atomic
operation in the free-threaded build, and no thread reads a value to write it back.
Correct: must stay quiet.
"""
# expect: clean
import threading

events = []
by_thread = {}
seen = set()
first = {}


def worker(n):
    for i in range(200):
        events.append((n, i))
        by_thread[(n, i)] = i
        seen.add(i)
        first.setdefault(i, n)
        by_thread.get((n, 0))


threads = [threading.Thread(target=worker, args=(n,), name=f"atomic-{n}") for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(events) == 600 and len(by_thread) == 600
print(len(events), len(seen), len(first))
