"""Lost update on an attribute of a module-level object: `METRICS.requests += 1`."""
# expect: lost-update {mod}.METRICS.requests
import threading


class Metrics:
    def __init__(self):
        self.requests = 0


METRICS = Metrics()


def handle():
    METRICS.requests += 1


def worker():
    for _ in range(300):
        handle()


threads = [threading.Thread(target=worker, name=f"srv-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(METRICS.requests)
