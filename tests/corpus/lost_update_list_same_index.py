"""The twin of clean_list_slots_by_index.py: every thread adds to the same slot of the module-level
list (`COUNTS[0] += 1`), a lost update of that item."""
# expect: lost-update {mod}.COUNTS
import threading

COUNTS = [0] * 4
start = threading.Barrier(4)


def work(i):
    start.wait()
    for _ in range(300):
        COUNTS[0] += 1
        COUNTS[i] += 1  # its own slot: no race there


threads = [threading.Thread(target=work, args=(i,), name=f"cnt-{i}") for i in range(1, 4)] + \
          [threading.Thread(target=work, args=(0,), name="cnt-0")]
start = threading.Barrier(4)
for t in threads:
    t.start()
for t in threads:
    t.join()
print(COUNTS)
