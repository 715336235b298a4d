"""A producer/consumer pipeline over queue.Queue.

usage: w_pipeline.py THREADS SIZE   (or env NGR_BENCH_THREADS / NGR_BENCH_SIZE).  THREADS is split into
producers and consumers (at least one of each, so 1 means one of each); SIZE items in total, each
transformed a little by its consumer.  Prints the sum of results and the item count.
"""
import os
import queue
import sys
import threading

WORK = 20
DONE = None


def transform(item):
    v = item
    for _ in range(WORK):
        v = (v * 33 + 5) % 65521
    return v


def producer(q, start, stop):
    for i in range(start, stop):
        q.put(i)


def consumer(q, out, slot):
    acc = count = 0
    while True:
        item = q.get()
        if item is DONE:
            break
        acc += transform(item)
        count += 1
    out[slot] = (acc, count)


def args():
    threads = int(os.environ.get("NGR_BENCH_THREADS") or sys.argv[1])
    size = int(os.environ.get("NGR_BENCH_SIZE") or sys.argv[2])
    return threads, size


def main():
    threads, size = args()
    producers = max(1, threads // 2)
    consumers = max(1, threads - producers)
    q = queue.Queue(maxsize=1000)
    out = [(0, 0)] * consumers
    per = size // producers
    ps = [threading.Thread(target=producer, args=(q, k * per, (k + 1) * per), name=f"producer-{k}")
          for k in range(producers)]
    cs = [threading.Thread(target=consumer, args=(q, out, k), name=f"consumer-{k}") for k in range(consumers)]
    for t in cs + ps:
        t.start()
    for t in ps:
        t.join()
    for _ in cs:
        q.put(DONE)
    for t in cs:
        t.join()
    print("check", sum(a for a, _ in out), sum(c for _, c in out), per * producers)


if __name__ == "__main__":
    main()
