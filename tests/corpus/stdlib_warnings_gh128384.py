"""A race inside the standard library of CPython 3.13: warnings.catch_warnings (python/cpython
gh-128384, "warnings.catch_warnings is not thread safe or async safe").

In 3.13 `catch_warnings.__enter__` saves the module global `warnings.filters` and installs a
copy (`self._filters = self._module.filters; self._module.filters = self._filters[:]`);
`__exit__` stores the saved list back.  With no lock, threads entering and leaving at once restore
each other's lists: which filters a program ends with, and which filters a thread's
`simplefilter("ignore")` lands in, depend on the scheduler.  3.14 moved the state into a context
variable (gh-130010); 3.13.5 still runs the code above.  The program is the issue's reproducer:
catch_warnings + simplefilter + warn in several threads.

On 3.14 and later the program must stay quiet: __enter__ and __exit__ run under the warnings
module's lock, and free-threaded builds keep the filters in a context variable
(sys.flags.context_aware_warnings).  Default builds still swap the global list, under that lock:
a thread's exit can still restore another's list (an atomicity violation spanning two critical
sections, enter and exit), which a lockset detector cannot see.
"""
# expect[-3.13]: lost-update warnings.filters
# expect[-3.13]: unprotected-write warnings.filters
# expect[3.14+]: clean
# also-ok[-3.13]: check-then-act linecache.cache -- a real stdlib race, gh-133253 (stdlib_linecache_gh133253.py): when a lost filter lets warnings through, threads format them at once and linecache.updatecache() tests and fills the same cache entry unlocked (5 runs in 280 here)
import threading
import warnings


def test_warning():
    for _ in range(20):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.warn("my warning", UserWarning)


threads = [threading.Thread(target=test_warning, name=f"tw-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(warnings.filters), "filters")
