"""A racy program that is killed with SIGKILL (no chance to clean up): the trace must still be
readable and the race reported; `nogilrace run` exits with 128 + 9.
"""
# expect: lost-update {mod}.jobs_done
# exit: 137
import os
import signal
import threading

jobs_done = 0


def work():
    global jobs_done
    for _ in range(300):
        jobs_done += 1


threads = [threading.Thread(target=work, name=f"victim-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(jobs_done, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
