"""Racy under --parallel-threads: pytest-run-parallel runs one unittest TestCase instance's test in
every thread, and the test counts on the instance (`self.count += 1`) — no module state at all."""
# expect: lost-update test_racy_testcase.CountingTests().count
import unittest


class CountingTests(unittest.TestCase):
    def setUp(self):
        self.count = 0

    def test_counts_on_the_instance(self):
        for _ in range(50):
            self.count += 1
        # Another thread's lost update can write back an older count; pytest must pass so that
        # only nogilrace sees the race.
        self.assertGreaterEqual(self.count, 1)
