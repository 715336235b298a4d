"""Check-then-act on a heap mutated in C: threads peek at the smallest deadline (`HEAP[0]`) and
pop it if it is due (`heapq.heappop(HEAP)`, one atomic C operation), with no lock around the peek
and the pop: another thread can pop the peeked item first, and this thread pops a later one."""
# expect: check-then-act {mod}.HEAP
import heapq
import threading

HEAP = list(range(10000))  # never empties: no IndexError from a thread, whose traceback would race in linecache
heapq.heapify(HEAP)
done = []
start = threading.Barrier(3)


def run_due(now):
    if HEAP and HEAP[0] <= now:
        try:
            done.append(heapq.heappop(HEAP))
        except RuntimeError:  # "list changed size during iteration": heapq saw another pop
            pass


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
