"""Helper for the process corpus programs (not a corpus program itself): a correctly locked counter."""
import threading

counter = 0
lock = threading.Lock()


def _work():
    global counter
    for _ in range(300):
        with lock:
            counter += 1


def main():
    threads = [threading.Thread(target=_work, name=f"child-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter
