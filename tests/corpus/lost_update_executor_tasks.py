"""Lost update in executor tasks: a ThreadPoolExecutor runs `acc.add(x)` (a bound method,
`self.total += x`) for many x on one object made in main(); the workers run tasks at once."""
# expect: lost-update {mod}.Accumulator().total
import concurrent.futures
import threading


class Accumulator:
    def __init__(self):
        self.total = 0
        self.gate = threading.Barrier(4)

    def add(self, x):
        if x < 4:
            self.gate.wait()  # the first four tasks run together
        for _ in range(50):
            self.total += x


def main():
    acc = Accumulator()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for f in [ex.submit(acc.add, x) for x in range(40)]:
            f.result()
    print(acc.total)


main()
