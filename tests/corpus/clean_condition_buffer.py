"""A bounded buffer built on threading.Condition: producers and consumers update the module-level
buffer and counters only while holding the condition's lock, and wait() releases and re-takes it.
Correct: must stay quiet.
"""
# expect: clean
import threading

CAPACITY = 4
buffer = []
produced = 0
consumed = 0
cond = threading.Condition()


def producer(n):
    global produced
    for i in range(n):
        with cond:
            while len(buffer) >= CAPACITY:
                cond.wait()
            buffer.append(i)
            produced += 1
            cond.notify_all()


def consumer(n):
    global consumed
    for _ in range(n):
        with cond:
            while not buffer:
                cond.wait()
            buffer.pop(0)
            consumed += 1
            cond.notify_all()


threads = [threading.Thread(target=producer, args=(60,), name="producer-0"),
           threading.Thread(target=producer, args=(60,), name="producer-1"),
           threading.Thread(target=consumer, args=(120,), name="consumer")]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert produced == consumed == 120
print(produced, consumed)
