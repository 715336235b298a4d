"""Initialisation before the threads start: main fills the module-level tables, then starts
workers that only read them, then after joining updates them again.  Correct: must stay quiet.
"""
# expect: clean
import threading

table = {}
names = []
count = 0

for i in range(20):
    table[i] = i * i
    names.append(f"n{i}")
    count += 1


def reader(out):
    out.append(sum(table[i] for i in range(20)) + len(names) + count)


out = []
threads = [threading.Thread(target=reader, args=(out,), name=f"ro-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
count += 1
table[99] = 0
print(out, count)
