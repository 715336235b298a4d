"""Global-heavy worst case: every iteration loads several module globals, stores one, and
updates a per-thread item of a global dict — as many traced accesses per bytecode as a program
is likely to have.

usage: w_globals.py THREADS SIZE   (or env NGR_BENCH_THREADS / NGR_BENCH_SIZE).  SIZE iterations in total.
LAST is written by every thread without a lock (a deliberate race: it is a benchmark, and its value
is not part of the self-check); the per-thread counts are.
"""
import os
import sys
import threading

A = 3
B = 5
C = 7
D = 11
LAST = 0
COUNTS = {}


def worker(name, start, stop):
    global LAST
    acc = 0
    COUNTS[name] = 0
    for i in range(start, stop):
        acc += A * i + B - C + D
        LAST = acc
        COUNTS[name] += 1
    COUNTS[name + ".acc"] = acc


def args():
    threads = int(os.environ.get("NGR_BENCH_THREADS") or sys.argv[1])
    size = int(os.environ.get("NGR_BENCH_SIZE") or sys.argv[2])
    return threads, size


def main():
    threads, size = args()
    per = size // threads
    names = [f"g{k}" for k in range(threads)]
    ts = [threading.Thread(target=worker, args=(names[k], k * per, (k + 1) * per), name=f"globals-{k}") for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("check", sum(COUNTS[n] for n in names), sum(COUNTS[n + ".acc"] for n in names) % 1_000_000_007)


if __name__ == "__main__":
    main()
