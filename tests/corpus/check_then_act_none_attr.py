"""Check-then-act on a `None` check of an attribute of a module-level object.

`if SERVICE.conn is None: SERVICE.conn = connect()` without a lock: two connections can be made.
"""
# expect: check-then-act {mod}.SERVICE.conn
# also-ok: lost-update {mod}.SERVICE.conn -- when two threads both pass the None check, the later store overwrites the earlier thread's object: the analyzer may also report that read/write pair as a lost update of the same variable
import threading


class Service:
    def __init__(self):
        self.conn = None


SERVICE = Service()


def connect():
    return object()


def get_conn():
    if SERVICE.conn is None:
        SERVICE.conn = connect()
    return SERVICE.conn


def worker():
    for _ in range(30):
        get_conn()


threads = [threading.Thread(target=worker, name=f"client-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(SERVICE.conn is not None)
