"""Helper for the process corpus programs (not a corpus program itself): a racy counter module.

Imported by name in child processes so its variables are `race_counter.*` whatever the main
script is called.
"""
import threading

counter = 0


def _work():
    global counter
    for _ in range(300):
        counter += 1


def main():
    threads = [threading.Thread(target=_work, name=f"child-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter
