"""A single-threaded program that mutates globals, class attributes and dicts heavily: without a
second thread nothing can race.  Correct: must stay quiet.
"""
# expect: clean
counter = 0
cache = {}


class Stats:
    hits = 0


def work():
    global counter
    for i in range(500):
        counter += 1
        Stats.hits += 1
        if i % 10 not in cache:
            cache[i % 10] = i
        for k in cache:
            pass
        cache[i % 10] += 1


work()
print(counter, Stats.hits, len(cache))
