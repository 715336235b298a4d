"""A race in a multiprocessing child started with the "fork" method: the child runs threads that
update a global of this script without a lock.  The parent only waits.
"""
# expect: lost-update {mod}.counter
import multiprocessing
import threading

counter = 0


def work():
    global counter
    for _ in range(300):
        counter += 1


def child():
    threads = [threading.Thread(target=work, name=f"fork-child-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=child)
    p.start()
    p.join()
    print("child exit", p.exitcode)
