"""The twin of check_then_act_monkeypatch_restore.py: save, patch, call and restore under one lock,
so no thread ever sees or restores another's patch.  Nothing may be reported."""
# expect: clean
import os.path
import threading

start = threading.Barrier(3)
patch_lock = threading.Lock()


def fake_basename(p):
    return "fake"


def with_patch():
    with patch_lock:
        saved = os.path.basename
        os.path.basename = fake_basename
        try:
            os.path.basename("/a/b")
        finally:
            os.path.basename = saved


def worker():
    start.wait()
    for _ in range(100):
        with_patch()
        os.path.basename("/x/y")  # an unpatched call meanwhile: a read, not a race


threads = [threading.Thread(target=worker, name=f"patch-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(os.path.basename("/a/b"))
