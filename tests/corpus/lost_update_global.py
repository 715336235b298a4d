"""Lost update on a module global: `counter += 1` from several threads with no lock."""
# expect: lost-update {mod}.counter
import threading

counter = 0


def worker():
    global counter
    for _ in range(500):
        counter += 1


threads = [threading.Thread(target=worker, name=f"adder-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter, "of", 4 * 500)
