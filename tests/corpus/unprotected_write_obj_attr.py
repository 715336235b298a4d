"""Unprotected writes to an attribute of a module-level object from two threads, read by a third."""
# expect: unprotected-write {mod}.STATUS.last_error
import threading


class Status:
    def __init__(self):
        self.last_error = None


STATUS = Status()


def fail(tag):
    for i in range(100):
        STATUS.last_error = f"{tag}: error {i}"


def report(out):
    for _ in range(100):
        out.append(STATUS.last_error)


out = []
threads = [threading.Thread(target=fail, args=("db",), name="db"),
           threading.Thread(target=fail, args=("net",), name="net"),
           threading.Thread(target=report, args=(out,), name="reporter")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(STATUS.last_error)
