"""Each thread updates only its own slot of a module-level list (`PARTIALS[i] += x` with i the
thread's index), and main reads the list after join.  A list's items are told apart by index:
nothing may be reported (a list used to be one variable: this was a lost update)."""
# expect: clean
import threading

PARTIALS = [0] * 4
start = threading.Barrier(4)


def work(i):
    start.wait()
    for x in range(300):
        PARTIALS[i] += x


threads = [threading.Thread(target=work, args=(i,), name=f"part-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(PARTIALS))
