"""Fork/join phases: the main thread initialises shared state, one worker updates it without a
lock, the main thread joins it, a second worker updates it, is joined, and the main thread reads
the result.  Never two threads at once (start/join order everything); a lockset-only checker
flags this, a happens-before-aware one must not.
"""
# expect: clean
import threading

total = 0
log = {"phase": None}


def phase(name, n):
    global total
    log["phase"] = name
    for i in range(n):
        total += i


total = 10
t1 = threading.Thread(target=phase, args=("first", 100), name="phase-1")
t1.start()
t1.join()
total += 1
t2 = threading.Thread(target=phase, args=("second", 100), name="phase-2")
t2.start()
t2.join()
print(total, log["phase"])
