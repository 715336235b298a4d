"""Correct code: a threading.Lock used as a one-shot signal (older code and `_thread` users do
this instead of an Event).  The main thread holds the lock and blocks on a second acquire(); the
worker computes the result, stores it in a module global and releases the lock the main thread
holds.  acquire() returns only after that release, so the main thread reads (and then updates) the
result after the worker wrote it.  Must not produce a report.
"""
# expect: clean
import threading

result = None
done = threading.Lock()


def worker():
    global result
    total = 0
    for i in range(1000):
        total += i
    result = total
    done.release()  # legal for a Lock: released by a thread that did not acquire it


for _ in range(5):
    done.acquire()
    threading.Thread(target=worker).start()
    done.acquire()  # blocks until the worker's release
    result = result + 1
    done.release()
print(result)
