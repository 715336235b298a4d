"""Hand-off through queues: the producer fills a module-level batch, passes the baton through a
queue.Queue, and touches the batch again only after the consumer handed it back through a second
queue.  Every update of `batch` is a read-modify-write with no lock, ordered by the queues.
"""
# expect: clean
import queue
import threading

batch = {"items": [], "version": 0}
to_consumer = queue.Queue()
to_producer = queue.Queue()


def consumer():
    while True:
        token = to_consumer.get()
        if token is None:
            return
        batch["version"] += 1
        batch["items"] = batch["items"] + ["consumed"]
        to_producer.put(token)


t = threading.Thread(target=consumer, name="consumer")
t.start()
for i in range(30):
    batch["version"] += 1
    batch["items"] = batch["items"] + [f"produced-{i}"]
    to_consumer.put(i)
    to_producer.get()
to_consumer.put(None)
t.join()
assert batch["version"] == 60
print(batch["version"], len(batch["items"]))
