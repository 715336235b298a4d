"""The twin of lost_update_nested_setting.py: the test and the decrement of
`CONFIG.settings['retries']` under one lock.  Nothing may be reported."""
# expect: clean
import threading


class Config:
    def __init__(self):
        self.lock = threading.Lock()
        self.settings = {"retries": 600, "timeout": 5}


CONFIG = Config()
start = threading.Barrier(3)


def retry():
    start.wait()
    for _ in range(300):
        with CONFIG.lock:
            if CONFIG.settings["retries"] > 0:
                CONFIG.settings["retries"] -= 1


threads = [threading.Thread(target=retry, name=f"retry-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(CONFIG.settings["retries"])
