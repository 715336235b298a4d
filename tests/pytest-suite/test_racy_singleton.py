"""Racy under --parallel-threads: a lazily created client without a lock (the guide's audit item)."""
# expect: check-then-act test_racy_singleton._client
# also-ok: lost-update test_racy_singleton._client -- when two threads both pass the None check, the later store overwrites the earlier thread's object: the analyzer may also report that read/write pair as a lost update of the same variable


class Client:
    pass


_client = None


def get_client():
    global _client
    if _client is None:
        _client = Client()
    return _client


def test_client_is_shared():
    assert isinstance(get_client(), Client)
