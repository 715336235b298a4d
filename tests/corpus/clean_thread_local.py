"""threading.local: each thread keeps its own counter in a module-level `threading.local()`;
`tls.count += 1` is never shared between threads.  Correct: must stay quiet.
"""
# expect: clean
import threading

tls = threading.local()
finals = []


def worker():
    tls.count = 0
    for _ in range(300):
        tls.count += 1
    finals.append(tls.count)


threads = [threading.Thread(target=worker, name=f"local-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert finals == [300, 300, 300]
print(finals)
