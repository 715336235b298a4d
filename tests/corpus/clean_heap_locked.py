"""The twin of check_then_act_heap_peek.py: the peek and the pop under one lock.  Nothing may be
reported."""
# expect: clean
import heapq
import threading

HEAP = list(range(10000))
heapq.heapify(HEAP)
heap_lock = threading.Lock()
done = []
start = threading.Barrier(3)


def run_due(now):
    with heap_lock:
        if HEAP and HEAP[0] <= now:
            done.append(heapq.heappop(HEAP))


def worker():
    start.wait()
    for now in range(0, 3000, 3):
        run_due(now)


threads = [threading.Thread(target=worker, name=f"sched-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(done))
