"""`nogilrace ...` (the command pip installs) and `python -m nogilrace ...`: the analyzer binary
built for this environment, with the same arguments, exit status and signals (it replaces this
process).  `nogilrace --help` lists its subcommands: report, run, dump."""
import os
import sys

from nogilrace import analyzer


def main():
    exe = analyzer()
    if not os.access(exe, os.X_OK):
        sys.stderr.write("nogilrace: %s is missing: reinstall the nogilrace package\n" % exe)
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
