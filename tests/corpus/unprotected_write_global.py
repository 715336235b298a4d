"""Unprotected writes: several threads store to one module global with no lock in common, and
another thread reads it to decide what to do.  Which value wins depends on the scheduler.
"""
# expect: unprotected-write {mod}.current_phase
import threading

current_phase = "init"


def stage(name):
    global current_phase
    for i in range(100):
        current_phase = f"{name}-{i}"


def monitor(out):
    for _ in range(100):
        out.append(current_phase)


out = []
threads = [threading.Thread(target=stage, args=("load",), name="loader"),
           threading.Thread(target=stage, args=("save",), name="saver"),
           threading.Thread(target=monitor, args=(out,), name="monitor")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(current_phase, len(out))
