"""examples/seed.py with the migration guide's fixes: nogilrace reports nothing here.

  * the counter is updated under a module-level lock;
  * the singleton uses double-checked locking, exactly as the guide's Step 2 shows.
"""
import threading
import time

instance_count = 0
_count_lock = threading.Lock()

_singleton_lock = threading.Lock()
_singleton = None


class Expensive:
    def __init__(self):
        time.sleep(0.001)


def get_singleton():
    global _singleton
    if _singleton is None:
        with _singleton_lock:
            if _singleton is None:  # Double-check
                _singleton = Expensive()
    return _singleton


def handle_request():
    global instance_count
    with _count_lock:
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
