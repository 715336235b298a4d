"""Everyday thread-safe library use: worker threads log through `logging` (handlers and the module
lock serialise it) and call a `functools.lru_cache` function (thread-safe in C).  The standard
library's own bookkeeping must not be reported.  Correct: must stay quiet.
"""
# expect: clean
import functools
import logging
import threading

logging.basicConfig(level=logging.INFO, format="%(threadName)s %(message)s")
log = logging.getLogger("app.worker")


@functools.lru_cache(maxsize=32)
def square(x):
    return x * x


def worker(i):
    for j in range(20):
        log.info("job %d.%d -> %d", i, j, square(j % 5))
        log.debug("not shown")


threads = [threading.Thread(target=worker, args=(i,), name=f"log-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
