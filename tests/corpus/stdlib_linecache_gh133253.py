"""A race inside the standard library of CPython 3.13: linecache (python/cpython gh-133253).

`linecache.updatecache()` in 3.13 starts with
    if filename in cache:
        if len(cache[filename]) != 1:
            cache.pop(filename, None)
and ends with `cache[filename] = size, mtime, lines, fullname`, with no lock: a time-of-check to
time-of-use race on the module-level `linecache.cache` dict (a KeyError or a lost entry when
threads fill and drop entries at once; seen first in JAX's CI).  Fixed in 3.14 by gh-133305, which
was not backported: the 3.13.5 code path above is the one this program drives.  Several threads
read lines of the same fresh files, as tracebacks printed from worker threads do.

On 3.14 and later the program must stay quiet: getlines() takes one `cache.get()` and
updatecache() starts with `cache.pop()` and ends with the store, so no test of the cache is acted
on in the same call any more (two threads may both read the file and store equal entries: work
done twice, no error).
"""
# expect[-3.13]: check-then-act linecache.cache
# expect[3.14+]: clean
import linecache
import os
import tempfile
import threading

tmp = tempfile.mkdtemp(prefix="ngr-linecache-")
files = []
for i in range(3):
    path = os.path.join(tmp, f"mod_{i}.py")
    with open(path, "w") as f:
        f.write(f"x = {i}\ny = x + 1\n")
    files.append(path)


def worker():
    for _ in range(10):
        for path in files:
            linecache.getline(path, 1)
            linecache.updatecache(path)  # what getline() runs on a miss; refreshes the entry


threads = [threading.Thread(target=worker, name=f"tb-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for path in files:
    os.unlink(path)
os.rmdir(tmp)
print("done")
