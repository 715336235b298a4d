"""Racy under --parallel-threads: the test patches a module function by hand and restores it
after, as doctest does with linecache.getlines; two threads that save and restore at once can
leave the patched function installed for good (each restores what it saved: the other's patch)."""
# expect: check-then-act|lost-update racy_helper.lookup
# also-ok: check-then-act|lost-update racy_helper.lookup -- the save and the restores are windows the analyzer calls either kind (a read on another line than the write, counted per site); both may appear
import racy_helper


def fake_lookup(key):
    return "fake:" + key


def test_patches_and_restores():
    for _ in range(20):
        saved = racy_helper.lookup
        racy_helper.lookup = fake_lookup
        try:
            # another thread's restore may have put the real one back meanwhile: the very race;
            # pytest must pass so that only nogilrace sees it
            assert racy_helper.lookup("k") in ("fake:k", "real:k")
        finally:
            racy_helper.lookup = saved
