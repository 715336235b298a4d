"""Lost update on an object that is not module state: it is made inside main() and handed to the
threads as an argument (`Thread(target=work, args=(counter,))`), each doing `counter.n += 1`."""
# expect: lost-update {mod}.Counter().n
import threading


class Counter:
    def __init__(self):
        self.n = 0


def work(counter, start):
    start.wait()
    for _ in range(300):
        counter.n += 1


def main():
    counter = Counter()
    start = threading.Barrier(3)
    threads = [threading.Thread(target=work, args=(counter, start), name=f"w-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(counter.n)


main()
