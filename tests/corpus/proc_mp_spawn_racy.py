"""A race in a multiprocessing child started with the "spawn" method (a fresh interpreter, run
through multiprocessing's own command line): the child's threads race on a helper module.
"""
# expect: lost-update race_counter.counter
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers"))
import race_counter  # noqa: E402

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=race_counter.main)
    p.start()
    p.join()
    print("child exit", p.exitcode)
