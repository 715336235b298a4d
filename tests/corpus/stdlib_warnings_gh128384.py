"""A race inside the standard library of CPython 3.13: warnings.catch_warnings (python/cpython
gh-128384, "warnings.catch_warnings is not thread safe or async safe").

In 3.13 `catch_warnings.__enter__` saves the module globals `warnings.filters`,
`warnings.showwarning` and `warnings._showwarnmsg_impl` and installs a copy of the filters
(`self._module.filters = self._filters[:]`); `__exit__` stores the saved values back.  With no lock,
threads entering and leaving at once restore each other's values: the filters a program ends with
depend on the scheduler.  3.14 moved the state into a context variable (gh-130010); 3.13.5 still
runs the code above.  The reproducer is the issue's own: catch_warnings in pool threads.
"""
# expect: lost-update warnings.filters
# expect: unprotected-write warnings.showwarning
# expect: unprotected-write warnings._showwarnmsg_impl
# also-ok: unprotected-write warnings.filters -- __exit__ stores the saved list back from every thread, a second site pair of the same bug
import threading
import warnings


def test_warning():
    for _ in range(20):
        with warnings.catch_warnings():
            pass


threads = [threading.Thread(target=test_warning, name=f"tw-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(warnings.filters), "filters")
