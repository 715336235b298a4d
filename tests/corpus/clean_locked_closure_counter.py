"""The twin of lost_update_closure_counter.py, fixed: one lock, also held in the closure, around
every update of the function's local."""
# expect: clean
import threading


def run_jobs(n_threads, jobs):
    done = 0
    lock = threading.Lock()

    def worker():
        nonlocal done
        for _ in range(jobs):
            with lock:
                done += 1

    threads = [threading.Thread(target=worker, name=f"job-{i}") for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


print(run_jobs(3, 2000))
