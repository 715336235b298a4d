"""Futures from ThreadPoolExecutor: each task updates a module-level accumulator without a lock,
but the main thread submits a task only after the previous task's `result()`, and reads the
accumulator between tasks; `submit` and `result` order every access.  Correct: must stay quiet.
"""
# expect: clean
from concurrent.futures import ThreadPoolExecutor

acc = 0
history = []


def step(i):
    global acc
    acc += i
    history.append(acc)
    return acc


with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pool") as ex:
    for i in range(20):
        acc += 1  # the main thread's own update between tasks
        ex.submit(step, i).result()
assert acc == sum(range(20)) + 20
print(acc, len(history))
