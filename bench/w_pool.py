"""A concurrent.futures.ThreadPoolExecutor map over many small tasks.

usage: w_pool.py THREADS SIZE   (or env NGR_BENCH_THREADS / NGR_BENCH_SIZE).  THREADS workers, SIZE tasks.
Prints the sum of the results, which does not depend on the thread count.
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

WORK = 200


def task(n):
    v = n
    for _ in range(WORK):
        v = (v * 1664525 + 1013904223) & 0xffffffff
    return v & 0xffff


def args():
    threads = int(os.environ.get("NGR_BENCH_THREADS") or sys.argv[1])
    size = int(os.environ.get("NGR_BENCH_SIZE") or sys.argv[2])
    return threads, size


def main():
    threads, size = args()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pool") as ex:
        total = sum(ex.map(task, range(size), chunksize=1))
    print("check", total, size)


if __name__ == "__main__":
    main()
