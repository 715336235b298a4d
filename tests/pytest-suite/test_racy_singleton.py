"""Racy under --parallel-threads: a lazily created client without a lock (the guide's audit item)."""
# expect: check-then-act test_racy_singleton._client


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
