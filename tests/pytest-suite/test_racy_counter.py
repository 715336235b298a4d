"""Racy under --parallel-threads: every thread running this test bumps one module counter."""
# expect: lost-update test_racy_counter.calls

calls = 0


def record_call():
    global calls
    calls += 1


def test_counts_calls():
    for _ in range(50):
        record_call()
    assert calls >= 50
