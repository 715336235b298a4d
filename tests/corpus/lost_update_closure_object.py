"""Lost update on an object the threads' function captures in a closure (no module state): the
object is made in main() and `tally.hits += 1` runs in three threads."""
# expect: lost-update {mod}.Tally().hits
import threading


class Tally:
    def __init__(self):
        self.hits = 0


def main():
    tally = Tally()
    start = threading.Barrier(3)

    def work():
        start.wait()
        for _ in range(300):
            tally.hits += 1

    threads = [threading.Thread(target=work, name=f"w-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(tally.hits)


main()
