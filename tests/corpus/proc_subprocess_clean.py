"""A clean child process started with subprocess (a locked counter), and a clean parent."""
# expect: clean
import os
import subprocess
import sys

helpers = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers")
code = f"import sys; sys.path.insert(0, {helpers!r}); import locked_counter; print(locked_counter.main())"
out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
print("child counted", out.stdout.strip())
