"""Monkeypatching from several threads: each saves a module function, installs its own, calls it,
and restores what it saved (doctest does this to linecache.getlines).  Two threads that overlap
restore each other's patch: the patched function can stay installed for good (a real suite died of
RecursionError this way).  The function lives in the standard library's posixpath (os.path)."""
# expect: check-then-act|lost-update posixpath.basename
# also-ok: check-then-act|lost-update posixpath.basename -- the save and the restores are windows the analyzer calls either kind (a read on another line than the write, counted per site); both kinds may appear in one run
import os.path
import threading

start = threading.Barrier(3)


def fake_basename(p):
    return "fake"


def with_patch():
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


threads = [threading.Thread(target=worker, name=f"patch-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(os.path.basename("/a/b"))
