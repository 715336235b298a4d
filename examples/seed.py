"""The free-threading migration guide's audit list, as a small service.

Two of its three patterns are here, both racy once the GIL is gone:
  * a module-level counter updated with `+=` (a lost update), and
  * a lazily created singleton (check-then-act).
`make demo` runs this under nogilrace and prints what it finds; examples/seed_fixed.py is the
same program with the guide's fixes, and nogilrace stays quiet on it.
"""
import threading
import time

instance_count = 0          # module-level mutable: needs protection
_singleton = None


class Expensive:
    def __init__(self):
        time.sleep(0.001)   # construction takes a while: a wide window for the race


def get_singleton():
    global _singleton
    if _singleton is None:  # check ...
        _singleton = Expensive()  # ... then act
    return _singleton


def handle_request():
    global instance_count
    instance_count += 1
    return get_singleton()


def worker(n):
    for _ in range(n):
        handle_request()


def main():
    threads = [threading.Thread(target=worker, args=(2000,), name=f"worker-{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"handled {instance_count} requests (expected {4 * 2000})")


if __name__ == "__main__":
    main()
