"""A clean multiprocessing Pool: pure functions mapped over worker processes, results gathered by
the parent.  The pool's own threads and queues must not produce reports.
"""
# expect: clean
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print(sum(pool.map(square, range(50))))
