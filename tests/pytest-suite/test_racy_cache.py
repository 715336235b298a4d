"""Racy under --parallel-threads: a module-level memo filled with check-then-act."""
# expect: check-then-act test_racy_cache._memo

_memo = {}


def fib(n):
    if n not in _memo:
        _memo[n] = n if n < 2 else fib(n - 1) + fib(n - 2)
    return _memo[n]


def test_fib():
    assert fib(30) == 832040
