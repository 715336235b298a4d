"""The twin of lost_update_executor_tasks.py: the tasks update one shared object, under its own
lock.  Nothing may be reported."""
# expect: clean
import concurrent.futures
import threading


class Accumulator:
    def __init__(self):
        self.total = 0
        self.lock = threading.Lock()

    def add(self, x):
        for _ in range(50):
            with self.lock:
                self.total += x


def main():
    acc = Accumulator()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for f in [ex.submit(acc.add, x) for x in range(40)]:
            f.result()
    print(acc.total)


main()
