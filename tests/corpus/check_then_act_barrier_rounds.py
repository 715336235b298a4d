"""Check-then-act in rounds separated by a Barrier, the way pytest-run-parallel runs a test with
--iterations: every round starts with `barrier.wait()`, then each thread calls the lazy getter.
Within one round the threads are unordered, so the unlocked `if _client is None: _client = ...`
races (usually only one thread writes, the others find the object).  The barrier orders
round N before round N+1, never two threads within a round.
"""
# expect: check-then-act {mod}._client
# also-ok: lost-update {mod}._client -- when two threads both pass the None check, the later store overwrites the earlier thread's object: the analyzer may also report that read/write pair as a lost update of the same variable
import threading

_client = None
barrier = threading.Barrier(4)


def get_client():
    global _client
    if _client is None:
        _client = object()
    return _client


def worker():
    for _ in range(3):
        barrier.wait()
        get_client()


threads = [threading.Thread(target=worker, name=f"round-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
