"""The twin of lost_update_deep_attr.py: `APP.stats.requests_served += 1` two steps from module
state, under the object's own lock.  Nothing may be reported."""
# expect: clean
import threading


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests_served = 0


class App:
    def __init__(self):
        self.stats = Stats()


APP = App()
start = threading.Barrier(3)


def serve():
    start.wait()
    for _ in range(300):
        with APP.stats.lock:
            APP.stats.requests_served += 1


threads = [threading.Thread(target=serve, name=f"srv-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(APP.stats.requests_served)
