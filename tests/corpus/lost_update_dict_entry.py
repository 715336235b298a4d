"""Lost update on a dict entry: `counts[word] += 1` on a module-level dict with no lock.

`d[k] = v` alone is atomic in the free-threaded build; the read-modify-write is not.
"""
# expect: lost-update {mod}.counts
import threading

counts = {"apple": 0, "pear": 0}


def worker(words):
    for _ in range(100):
        for w in words:
            counts[w] += 1


threads = [threading.Thread(target=worker, args=(["apple", "pear"],), name=f"wc-{i}")
           for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counts)
