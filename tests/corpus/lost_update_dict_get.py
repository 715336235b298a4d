"""Lost update through `d[k] = d.get(k, 0) + 1` on a module-level dict (a common histogram idiom)."""
# expect: lost-update {mod}.histogram
import threading

histogram = {}


def worker(seed):
    for i in range(200):
        bucket = (seed + i) % 4
        histogram[bucket] = histogram.get(bucket, 0) + 1


threads = [threading.Thread(target=worker, args=(i,), name=f"hist-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(histogram.values()), "of", 600)
