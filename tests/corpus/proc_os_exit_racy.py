"""A racy program that ends with os._exit(7) (no atexit, no finalisation): the race is reported
and `nogilrace run` passes the status 7 through.
"""
# expect: check-then-act {mod}._pool
# also-ok: lost-update {mod}._pool -- when two threads both pass the None check, the later store overwrites the earlier thread's object: the analyzer may also report that read/write pair as a lost update of the same variable
# exit: 7
import os
import threading

_pool = None


def get_pool():
    global _pool
    if _pool is None:
        _pool = [object() for _ in range(10)]
    return _pool


def work():
    for _ in range(30):
        get_pool()


threads = [threading.Thread(target=work, name=f"exiter-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("exiting", flush=True)
os._exit(7)
