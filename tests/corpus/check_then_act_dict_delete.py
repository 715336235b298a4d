"""Check-then-act on dict membership: `if key in sessions: del sessions[key]`.

Two threads can both pass the membership test; the second `del` raises KeyError.
"""
# expect: check-then-act {mod}.sessions
import threading

sessions = {f"s{i}": i for i in range(40)}


def expire(keys):
    for k in keys:
        if k in sessions:
            try:
                del sessions[k]
            except KeyError:
                pass  # the race happened for real


keys = list(sessions)
threads = [threading.Thread(target=expire, args=(keys,), name=f"reaper-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(sessions), "left")
