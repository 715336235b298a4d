"""A module whose function test_racy_monkeypatch.py patches and restores."""


def lookup(key):
    return "real:" + key
