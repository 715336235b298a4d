"""A Semaphore(1) used as a mutex around a read-modify-write: every update happens between
acquire and release of the one semaphore.  Correct: must stay quiet.
"""
# expect: clean
import threading

sem = threading.Semaphore(1)
counter = 0


def worker():
    global counter
    for _ in range(200):
        with sem:
            counter += 1


threads = [threading.Thread(target=worker, name=f"sem-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 600
print(counter)
