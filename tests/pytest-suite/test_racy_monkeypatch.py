"""Racy under --parallel-threads: the test patches a module function by hand and restores it
after, as doctest does with linecache.getlines; two threads that save and restore at once can
leave the patched function installed for good (each restores what it saved: the other's patch).

Each patch installs a fresh function, as mock.patch installs a fresh mock: a store of the object a
variable already holds is invisible (CPython's dict watchers do not fire for it, docs/limits.md),
so with one shared fake, threads that all ran while another's patch was in place (a GIL build
switches threads every 5 ms) stored nothing visible, and the race was missed 1 run in 3."""
# expect: check-then-act|lost-update racy_helper.lookup
# also-ok: check-then-act|lost-update racy_helper.lookup -- the save and the restores are windows the analyzer calls either kind (a read on another line than the write, counted per site); both may appear
import racy_helper


def make_fake():
    def fake_lookup(key):
        return "fake:" + key
    return fake_lookup


def test_patches_and_restores():
    for _ in range(20):
        saved = racy_helper.lookup
        racy_helper.lookup = make_fake()
        try:
            # another thread's restore may have put the real one back meanwhile: the very race;
            # pytest must pass so that only nogilrace sees it
            assert racy_helper.lookup("k") in ("fake:k", "real:k")
        finally:
            racy_helper.lookup = saved
