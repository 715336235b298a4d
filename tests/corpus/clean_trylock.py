"""`acquire(blocking=False)`: updates happen only when the non-blocking acquire succeeded; a failed
attempt does other work and retries.  A failed acquire holds nothing.  Correct: must stay quiet.
"""
# expect: clean
import threading

lock = threading.Lock()
counter = 0
misses = threading.local()


def worker():
    global counter
    misses.n = 0
    done = 0
    while done < 200:
        if lock.acquire(blocking=False):
            try:
                counter += 1
            finally:
                lock.release()
            done += 1
        else:
            misses.n += 1  # thread-local bookkeeping only


threads = [threading.Thread(target=worker, name=f"try-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 600
print(counter)
