"""Read-modify-writes of an object attribute and of dict entries, each under one lock that every
update takes (`METRICS.lock`).  Correct: must stay quiet.
"""
# expect: clean
import threading


class Metrics:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.by_path = {"/": 0, "/api": 0}


METRICS = Metrics()


def handle(path):
    with METRICS.lock:
        METRICS.requests += 1
        METRICS.by_path[path] += 1


def worker():
    for i in range(200):
        handle("/" if i % 2 else "/api")


threads = [threading.Thread(target=worker, name=f"srv-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert METRICS.requests == 600
print(METRICS.by_path)
