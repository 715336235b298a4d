"""Lazy initialisation with check-then-act where the race does not happen in this run: the first
thread creates the object, the others come 50 ms later and only find it.  Nothing orders them
(a sleep is not synchronisation) and no lock is held: another scheduling lets a second thread pass
the `None` check in the window and build a second instance.  A lockset analysis must report the
race although it did not manifest (the issue's "racy by construction regardless of scheduling").
"""
# expect: check-then-act {mod}._engine
import threading
import time

_engine = None


def get_engine():
    global _engine
    if _engine is None:
        _engine = object()
    return _engine


def early():
    get_engine()


def late():
    time.sleep(0.05)  # not synchronisation: only makes the race unlikely to show
    for _ in range(10):
        get_engine()


threads = [threading.Thread(target=early, name="early")] + \
          [threading.Thread(target=late, name=f"late-{i}") for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
