"""Hand-off through queue.SimpleQueue (implemented in C): a module-level job record is filled by
the main thread, handed to a worker through one SimpleQueue, updated there, and handed back
through another before the main thread reads it.  Correct: must stay quiet.
"""
# expect: clean
import queue
import threading

JOB = {"input": None, "output": None}
todo = queue.SimpleQueue()
done = queue.SimpleQueue()


def worker():
    while todo.get():
        JOB["output"] = JOB["input"] * 2
        done.put(True)


t = threading.Thread(target=worker, name="sq-worker")
t.start()
for i in range(30):
    JOB["input"] = i
    todo.put(True)
    done.get()
    assert JOB["output"] == 2 * i
todo.put(False)
t.join()
print(JOB)
