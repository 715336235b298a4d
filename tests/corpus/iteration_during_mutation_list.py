"""Iteration during mutation: one thread iterates a module-level list while another appends to it.

No exception is raised for lists, but the reader sees a half-updated registry.
"""
# expect: iteration-during-mutation {mod}.listeners
import threading

listeners = [lambda: 1, lambda: 2]


def notify_all():
    total = 0
    for cb in listeners:
        total += cb()
    return total


def reader():
    for _ in range(100):
        notify_all()


def writer():
    for i in range(100):
        listeners.append(lambda i=i: i)


threads = [threading.Thread(target=reader, name="notifier"), threading.Thread(target=writer, name="subscriber")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(listeners))
