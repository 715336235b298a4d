"""Thread-safe tests: nogilrace must report nothing for this file under --parallel-threads."""
# expect: clean
import threading

_lock = threading.Lock()
_total = 0
_tls = threading.local()
_singleton = None
_singleton_lock = threading.Lock()
SETTINGS = {"scale": 3}


def add(n):
    global _total
    with _lock:
        _total += n


def get_singleton():
    global _singleton
    if _singleton is None:
        with _singleton_lock:
            if _singleton is None:
                _singleton = object()
    return _singleton


def test_locked_total():
    for i in range(50):
        add(i)


def test_thread_local():
    _tls.n = 0
    for _ in range(50):
        _tls.n += 1
    assert _tls.n == 50


def test_double_checked_singleton():
    assert get_singleton() is get_singleton()


def test_read_only_settings():
    assert sum(SETTINGS["scale"] * i for i in range(10)) == 135


def test_pure():
    assert sorted([3, 1, 2]) == [1, 2, 3]
