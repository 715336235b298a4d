"""t_sync_threads.py — thread names: given at construction, default ("Thread-N (target)"),
changed by the thread itself (Thread.name = ..., setName), the main thread; and that wrapping
Thread.name keeps the property working (reads, doc, setter) exactly as untraced."""
from t_sync_helpers import Run, check, interpreters

PROG = '''\
import threading
import warnings
warnings.simplefilter("ignore", DeprecationWarning)
seen = []
def renamer():
    threading.current_thread().name = "renamed-worker"
    seen.append(threading.current_thread().name)
def plain():
    seen.append(threading.current_thread().name)
t = threading.Thread(target=renamer, name="orig"); t.start(); t.join()
u = threading.Thread(target=plain); u.start(); u.join()
threading.current_thread().setName("Boss")
seen.append(threading.current_thread().name)
print(seen, t.name, u.name, type(threading.Thread.__dict__["name"]).__name__)
print(threading.Thread.name.__doc__.splitlines()[0])
'''


def main():
    for label, py in interpreters():
        r = Run(py, "threads", PROG, label=label)
        r.check_unchanged()
        check("['renamed-worker', 'Thread-1 (plain)', 'Boss'] renamed-worker Thread-1 (plain) "
              "property" in r.proc.stdout, "%s output %r %r" %
              (label, r.proc.stdout, r.proc.stderr[-1500:]))
        names = {x["thread_name"] for x in r.records if "thread_name" in x}
        check(names == {"Boss", "renamed-worker", "Thread-1 (plain)"},
              "%s: thread names %s" % (label, names))
        check(r.thread_of("Boss") == 1, "%s: main thread is thread 1" % label)
        print("ok", label)


main()
