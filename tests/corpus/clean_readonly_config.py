"""Read-only shared configuration: module-level dicts, a class attribute and an object attribute
set at import time, then only read by many threads.  Correct: must stay quiet.
"""
# expect: clean
import threading

SETTINGS = {"retries": 3, "hosts": ("a", "b", "c")}
LIMITS = [10, 20, 30]


class Defaults:
    timeout = 2.5


class Options:
    def __init__(self):
        self.verbose = False


OPTIONS = Options()


def worker(out):
    s = 0
    for _ in range(200):
        s += SETTINGS["retries"] + len(SETTINGS["hosts"]) + LIMITS[1] + Defaults.timeout
        if OPTIONS.verbose:
            s += 1
        for h in SETTINGS["hosts"]:
            s += len(h)
    out.append(s)


out = []
threads = [threading.Thread(target=worker, args=(out,), name=f"ro-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
