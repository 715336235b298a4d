"""A race in a child process started with subprocess: the parent is clean, the child (another
Python process) has a lost update.  `nogilrace run` must follow the child.
"""
# expect: lost-update race_counter.counter
import os
import subprocess
import sys

helpers = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers")
code = f"import sys; sys.path.insert(0, {helpers!r}); import race_counter; print(race_counter.main())"
out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
print("child counted", out.stdout.strip())
