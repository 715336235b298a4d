"""Racy under --parallel-threads: every thread running this test bumps one module counter."""
# expect: lost-update test_racy_counter.calls

calls = 0


def record_call():
    global calls
    calls += 1


def test_counts_calls():
    for _ in range(50):
        record_call()
    # Not `calls >= 50`: a lost update from another thread can write back an older count, which
    # is the very race this module plants; pytest itself must pass so that only nogilrace sees it.
    # Every write stores some read value + 1, so the count is at least 1 once this thread wrote.
    assert calls >= 1
