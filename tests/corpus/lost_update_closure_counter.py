"""Lost update on a closure variable: threads started by a function count into its local through
`nonlocal` (the shape of a test that spawns threads and counts what they did)."""
# expect: lost-update {mod}.run_jobs.<locals>.done
import threading


def run_jobs(n_threads, jobs):
    done = 0

    def worker():
        nonlocal done
        for _ in range(jobs):
            done += 1

    threads = [threading.Thread(target=worker, name=f"job-{i}") for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


print(run_jobs(3, 2000) <= 6000)
