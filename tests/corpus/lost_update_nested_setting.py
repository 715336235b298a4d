"""A setting two steps from module state decremented without a lock:
`if CONFIG.settings['retries'] > 0: CONFIG.settings['retries'] -= 1` from three threads.  The
decrement is a read-modify-write of the dict item (a lost update); the test before it does not
protect it either."""
# expect: lost-update {mod}.Config().settings
# also-ok: check-then-act {mod}.Config().settings -- the test and the decrement sit on different lines: a window from the test's read to the write is a check-then-act
import threading


class Config:
    def __init__(self):
        self.settings = {"retries": 600, "timeout": 5}


CONFIG = Config()
start = threading.Barrier(3)


def retry():
    start.wait()
    for _ in range(300):
        if CONFIG.settings["retries"] > 0:
            CONFIG.settings["retries"] -= 1


threads = [threading.Thread(target=retry, name=f"retry-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(CONFIG.settings["retries"])
