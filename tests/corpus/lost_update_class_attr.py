"""Lost update on a class attribute: `Stats.hits += 1` from several threads with no lock."""
# expect: lost-update {mod}.Stats.hits
import threading


class Stats:
    hits = 0


def worker():
    for _ in range(300):
        Stats.hits += 1


threads = [threading.Thread(target=worker, name=f"hitter-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(Stats.hits)
