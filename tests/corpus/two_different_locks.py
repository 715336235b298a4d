"""The same variable protected by two different locks: no lock is common to all updates.

The billing path holds `billing_lock`, the refund path `refund_lock`; each `total += x` is a
read-modify-write that the other path can interleave with.
"""
# expect: lost-update {mod}.total
import threading

total = 0
billing_lock = threading.Lock()
refund_lock = threading.Lock()


def bill():
    global total
    for _ in range(200):
        with billing_lock:
            total += 3


def refund():
    global total
    for _ in range(200):
        with refund_lock:
            total -= 1


threads = [threading.Thread(target=bill, name="billing"), threading.Thread(target=refund, name="refunds")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(total, "expected", 200 * 2)
