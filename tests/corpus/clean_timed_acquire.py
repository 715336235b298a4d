"""`acquire(timeout=...)`: the shared update happens only when the timed acquire succeeded.
Correct: must stay quiet.
"""
# expect: clean
import threading

lock = threading.Lock()
served = 0


def worker():
    global served
    n = 0
    while n < 150:
        if lock.acquire(timeout=0.5):
            try:
                served += 1
            finally:
                lock.release()
            n += 1


threads = [threading.Thread(target=worker, name=f"timed-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert served == 450
print(served)
