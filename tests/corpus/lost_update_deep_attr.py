"""Lost update two steps from module state: `APP.stats.requests_served += 1`.

APP is a module global; its `stats` object, made in App.__init__, is shared by the threads and
named by its class (Stats()).  Three threads count requests on it with no lock.
"""
# expect: lost-update {mod}.Stats().requests_served
import threading


class Stats:
    def __init__(self):
        self.requests_served = 0


class App:
    def __init__(self):
        self.stats = Stats()


APP = App()
start = threading.Barrier(3)


def serve():
    start.wait()
    for _ in range(300):
        APP.stats.requests_served += 1


threads = [threading.Thread(target=serve, name=f"srv-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(APP.stats.requests_served)
