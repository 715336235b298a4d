"""RLock re-entrancy: a locked method calls another locked method on the same RLock; the inner
release must not end the protection of the outer block.  Correct: must stay quiet.
"""
# expect: clean
import threading

_rlock = threading.RLock()
balance = 0
ledger = {"entries": 0}


def record():
    with _rlock:
        ledger["entries"] += 1


def deposit(amount):
    global balance
    with _rlock:
        record()  # re-enters _rlock and releases it once
        balance += amount  # still under the outer acquisition


def worker():
    for _ in range(200):
        deposit(1)


threads = [threading.Thread(target=worker, name=f"teller-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert balance == 600 and ledger["entries"] == 600
print(balance)
