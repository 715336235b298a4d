"""Stdlib-heavy text processing: json round trips, regular expressions, string formatting.

usage: w_text.py THREADS SIZE   (or env NGR_BENCH_THREADS / NGR_BENCH_SIZE).  SIZE records in total.
Prints a self-check value that does not depend on the thread count.
"""
import json
import os
import re
import sys
import threading

WORD = re.compile(r"[a-z]+\d*")
NUMBER = re.compile(r"\d+")
TEMPLATE = "user={name} id={id:06d} score={score:.2f} tags={tags}"


def record(i):
    return {"id": i, "name": f"user{i % 97}", "score": (i * 7 % 1000) / 10, "tags": ["a", "b%d" % (i % 5)]}


def process(i):
    doc = json.loads(json.dumps(record(i)))
    line = TEMPLATE.format(name=doc["name"], id=doc["id"], score=doc["score"], tags=",".join(doc["tags"]))
    words = WORD.findall(line)
    nums = [int(n) for n in NUMBER.findall(line)]
    return len(words) + sum(nums) % 1000 + len(line.upper().split())


def worker(start, stop, out, slot):
    out[slot] = sum(process(i) for i in range(start, stop))


def args():
    threads = int(os.environ.get("NGR_BENCH_THREADS") or sys.argv[1])
    size = int(os.environ.get("NGR_BENCH_SIZE") or sys.argv[2])
    return threads, size


def main():
    threads, size = args()
    out = [0] * threads
    per = size // threads
    ts = [threading.Thread(target=worker, args=(k * per, (k + 1) * per, out, k), name=f"text-{k}")
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("check", sum(out), per * threads)


if __name__ == "__main__":
    main()
