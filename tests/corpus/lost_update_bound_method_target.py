"""Lost update through a bound method and a functools.partial as thread targets: the threads run
`meter.tick` (a bound method: `self.ticks += 1`) and `partial(add, meter, 2)`, on one object made
in main()."""
# expect: lost-update {mod}.Meter().ticks
import functools
import threading


class Meter:
    def __init__(self, start):
        self.start = start
        self.ticks = 0

    def tick(self):
        self.start.wait()
        for _ in range(300):
            self.ticks += 1


def add(meter, k):
    meter.start.wait()
    for _ in range(300):
        meter.ticks += k


def main():
    meter = Meter(threading.Barrier(4))
    targets = [meter.tick, meter.tick, functools.partial(add, meter, 2), functools.partial(add, meter, 2)]
    threads = [threading.Thread(target=f, name=f"w-{i}") for i, f in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(meter.ticks)


main()
