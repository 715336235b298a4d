"""Threads pull from one generator made in main() and passed to them: next() on a generator two
threads resume at once raises "generator already executing" or worse; the generator's state is
read and moved in one unprotected step each time.  (Here the threads take turns in time, each
after a pause, but nothing orders them: the race is still there, and CPython 3.13t, which crashes
on truly simultaneous resumes of one generator, does not crash while we watch.)"""
# expect: lost-update <generator ids>
# exit: 66
import threading
import time


def ids():
    n = 0
    while True:
        n += 1
        yield n


def worker(gen, start, out, turn):
    start.wait()
    time.sleep(0.15 * turn)
    for _ in range(300):
        try:
            out.append(next(gen))
        except ValueError:  # generator already executing: the race itself
            pass


def main():
    gen = ids()
    start = threading.Barrier(3)
    out = []
    threads = [threading.Thread(target=worker, args=(gen, start, out, i), name=f"gen-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(out) > 0)


main()
