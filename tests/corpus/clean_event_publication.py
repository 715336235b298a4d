"""Event publication: a loader thread builds the configuration and publishes it with
`ready.set()`; readers `ready.wait()` before reading it.  The write and the reads run in different
threads with no lock; the Event orders them.  Correct: must stay quiet.
"""
# expect: clean
import threading

CONFIG = None
ready = threading.Event()


def loader():
    global CONFIG
    CONFIG = {"workers": 4, "mode": "fast"}
    CONFIG["loaded"] = True
    ready.set()


def reader(out):
    ready.wait()
    for _ in range(50):
        out.append(CONFIG["mode"])


out = []
readers = [threading.Thread(target=reader, args=(out,), name=f"reader-{i}") for i in range(3)]
for r in readers:
    r.start()
load = threading.Thread(target=loader, name="loader")
load.start()
load.join()
for r in readers:
    r.join()
print(len(out), CONFIG["loaded"])
