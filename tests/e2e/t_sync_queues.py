"""t_sync_queues.py — queue.Queue/LifoQueue/PriorityQueue/SimpleQueue put->get,
Queue.task_done->join, concurrent.futures submit->run and set_result->result(), thread names of
pool workers, and the end-of-thread -> join edge for every joiner.  queue and concurrent.futures
are imported by the program, i.e. after tracing started.
"""
from t_sync_helpers import Run, check, interpreters

PROG = '''\
import threading
import queue
from concurrent.futures import ThreadPoolExecutor
q = queue.Queue()
lq = queue.LifoQueue()
pq = queue.PriorityQueue()
sq = queue.SimpleQueue()
put_before = {}

def producer():
    put_before["q"] = 1
    q.put("a"); lq.put("b"); pq.put((1, "c")); sq.put("d")
    q.join()                                   # waits for the consumer's task_done

def consumer():
    print(q.get(), lq.get(), pq.get(), sq.get())
    print(put_before["q"])
    q.task_done()

p = threading.Thread(target=producer, name="producer")
c = threading.Thread(target=consumer, name="consumer")
p.start(); c.start()
c.join(); p.join()
p.join()                                       # a second join: no pthread_join, still an edge

def task(x):
    return x * 2
with ThreadPoolExecutor(max_workers=1) as ex:
    f = ex.submit(task, 21)
    print(f.result())
def bad():
    raise KeyError("k")
with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool") as ex:
    f2 = ex.submit(bad)
    try:
        f2.result()
    except KeyError:
        print("KeyError")
print(queue.Queue.put.__name__, queue.Queue.get.__qualname__)
'''


def main():
    for label, py in interpreters():
        r = Run(py, "queues", PROG, label=label)
        r.check_unchanged()
        check(r.proc.stdout.startswith("a b (1, 'c') d\n1\n42\nKeyError\nput Queue.get"),
              "%s output %r %r" % (label, r.proc.stdout, r.proc.stderr[-1500:]))
        p = r.thread_of("producer")
        c = r.thread_of("consumer")
        for obj in ("queues.q", "queues.lq", "queues.pq", "queues.sq"):
            check(r.edge(obj, p, c), "%s: no put->get edge on %s: %s" %
                  (label, obj, [(x["thread"], x["kind"]) for x in r.sync(obj=obj)]))
            check(r.sync(obj=obj)[0]["obj_kind"] == "queue", "%s: %s kind" % (label, obj))
        check(r.edge("queues.q", c, p), "%s: no task_done->join edge" % label)

        # Pool workers are named; submit (SimpleQueue put) -> run (get) and set_result -> result().
        w = r.thread_of("ThreadPoolExecutor-0_0")
        w2 = r.thread_of("pool_0")
        futs = {x["obj"] for x in r.sync(kind="recv", thread=1) if x["obj_kind"] == "future"}
        check(len(futs) >= 2, "%s: result() RECVs on two futures, got %s" % (label, futs))
        for obj in futs:
            check(r.edge(obj, w, 1) or r.edge(obj, w2, 1),
                  "%s: no set_result->result edge on %s" % (label, obj))
        work_q = [x["obj"] for x in r.sync(kind="recv", thread=w) if x["obj_kind"] == "queue"]
        check(work_q and r.edge(work_q[0], 1, w), "%s: no submit->run edge" % label)

        # Thread end -> join: a RECV per join() that saw the thread finished (two joins of the
        # producer by MainThread; only the first one ends in pthread_join).
        ends = r.sync(kind="send", thread=p, obj="<end of thread producer>")
        joins = r.sync(kind="recv", thread=1, obj="<end of thread producer>")
        check(len(ends) == 1 and len(joins) == 2 and joins[0]["seq"] > ends[0]["seq"],
              "%s: end-of-thread edges %s %s" % (label, ends, joins))
        print("ok", label)


main()
