"""A racy program that then crashes with SIGSEGV: the report must still show the race, read from
the trace the dead process left behind, and `nogilrace run` exits with the crash's status.
"""
# expect: lost-update {mod}.counter
# exit: 139
import ctypes
import sys
import threading

counter = 0


def work():
    global counter
    for _ in range(300):
        counter += 1


threads = [threading.Thread(target=work, name=f"doomed-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter, flush=True)
sys.stderr.write("crashing on purpose\n")
ctypes.string_at(0)  # SIGSEGV
