"""The twin of the lost_update_thread_arg_object / closure / bound_method / executor programs:
every thread and task works on an object of its own (an argument, a closure's own object, a bound
method of its own object, a partial over its own object, an executor task's own object), and main
reads them after join / result().  Nothing may be reported."""
# expect: clean
import concurrent.futures
import functools
import threading


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self):
        for _ in range(200):
            self.n += 1


def work(counter):
    for _ in range(200):
        counter.n += 1


def run_task(x):
    c = Counter()
    c.bump()
    return c.n + x


def main():
    objs = [Counter() for _ in range(8)]
    targets = [functools.partial(work, objs[0]), functools.partial(work, objs[1]),
               objs[2].bump, objs[3].bump]
    for i in range(4, 6):
        own = objs[i]

        def closure(own=own):
            for _ in range(200):
                own.n += 1
        targets.append(closure)
    threads = [threading.Thread(target=f, name=f"w-{i}") for i, f in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        total = sum(f.result() for f in [ex.submit(run_task, x) for x in range(20)])
    print(sum(o.n for o in objs), total)


main()
