"""A lost update inside tasks of a ThreadPoolExecutor: the tasks run concurrently on the pool's
threads, and the futures only order each task before the `result()` that waits for it.
"""
# expect: lost-update {mod}.processed
import threading
from concurrent.futures import ThreadPoolExecutor

processed = 0
start = threading.Barrier(3)


def task(n):
    global processed
    start.wait()  # all three tasks are running at once on three pool threads
    for _ in range(n):
        processed += 1
    return n


with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pool") as ex:
    futures = [ex.submit(task, 200) for _ in range(3)]
    print(sum(f.result() for f in futures), processed)
