"""Pure-Python compute: a hot loop reading module constants and calling module functions.

usage: w_compute.py THREADS SIZE   (or env NGR_BENCH_THREADS / NGR_BENCH_SIZE, which win: some tools
replace sys.argv).  SIZE iterations in total, split over the threads.  Prints a self-check
value that does not depend on the thread count.
"""
import os
import sys
import threading

SCALE = 31
OFFSET = 7
MODULUS = 1_000_003
ROUNDS = 3


def mix(x):
    return (x * SCALE + OFFSET) % MODULUS


def step(x, i):
    for _ in range(ROUNDS):
        x = mix(x ^ i)
    return x


def worker(start, stop, out, slot):
    acc = 0
    for i in range(start, stop):
        acc += step(i, i) & 0xff
    out[slot] = acc


def args():
    threads = int(os.environ.get("NGR_BENCH_THREADS") or sys.argv[1])
    size = int(os.environ.get("NGR_BENCH_SIZE") or sys.argv[2])
    return threads, size


def main():
    threads, size = args()
    out = [0] * threads
    per = size // threads
    ts = [threading.Thread(target=worker, args=(k * per, (k + 1) * per, out, k), name=f"compute-{k}")
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("check", sum(out), per * threads)


if __name__ == "__main__":
    main()
