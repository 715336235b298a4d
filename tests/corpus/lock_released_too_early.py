"""A lock released too early: the balance is read under the lock, the lock is dropped, and the new
value is written under a second acquisition.  Every access holds the lock, yet the
read-modify-write is not atomic: another withdrawal can slip in between.
"""
# expect: lost-update {mod}.balance
import threading

balance = 1000
lock = threading.Lock()


def withdraw(amount):
    global balance
    with lock:
        current = balance
    # released too early
    with lock:
        balance = current - amount


def worker():
    for _ in range(100):
        withdraw(1)


threads = [threading.Thread(target=worker, name=f"atm-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(balance, "expected", 1000 - 300)
