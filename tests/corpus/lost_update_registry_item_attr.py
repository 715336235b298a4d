"""Lost update on an object held in a dict in an attribute of a module global:
`REGISTRY.handlers[name].calls += 1` (three steps from module state), from three threads."""
# expect: lost-update {mod}.Handler().calls
import threading


class Handler:
    def __init__(self, name):
        self.name = name
        self.calls = 0


class Registry:
    def __init__(self):
        self.handlers = {}

    def register(self, name):
        self.handlers[name] = Handler(name)


REGISTRY = Registry()
for n in ("index", "login", "logout"):
    REGISTRY.register(n)
start = threading.Barrier(3)


def dispatch(name):
    REGISTRY.handlers[name].calls += 1


def worker():
    start.wait()
    for i in range(300):
        dispatch(("index", "login", "logout")[i % 3])


threads = [threading.Thread(target=worker, name=f"disp-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(h.calls for h in REGISTRY.handlers.values()))
