"""Correct code inside the standard library: `tempfile.gettempdir()` initialises the module global
`tempfile.tempdir` lazily with double-checked locking (`_once_lock`).  Many threads calling it at
once must not produce a report.
"""
# expect: clean
import tempfile
import threading

assert tempfile.tempdir is None  # nothing initialised it yet: the threads race to do it
out = []


def worker():
    for _ in range(20):
        out.append(tempfile.gettempdir())


threads = [threading.Thread(target=worker, name=f"tmp-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(set(out)) == 1
print(out[0])
