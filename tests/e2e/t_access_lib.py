"""t_access_lib.py — shared helpers of the t_access_* end-to-end tests (issue #4, access hooks).

The other t_access_* tests import it (``from t_access_lib import ...``).  Run as a test itself, it
checks the helpers against the simplest traced program: one global written and read.

A test writes a small program, runs it under the preload with the real interpreter
(``interpreters()``: the one of this run, see interp.py), and reads the trace back through
``nogilrace dump --json`` — the same view the analyzer has.
"""
import json
import os
import subprocess
import sys
import textwrap

from interp import interpreters  # noqa: F401  (re-exported: the tests import it from here)

_counter = [0]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Run:
    def __init__(self, dirpath, proc, records):
        self.dir = dirpath
        self.proc = proc
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.records = records

    def accesses(self, var=None, kind=None, key=Ellipsis, thread=None, var_kind=None):
        out = []
        for r in self.records:
            if r.get("type") != "access":
                continue
            if var is not None and r["var"] != var:
                continue
            if kind is not None and r["kind"] != kind:
                continue
            if key is not Ellipsis and r["key"] != key:
                continue
            if thread is not None and r["thread"] != thread:
                continue
            if var_kind is not None and r["var_kind"] != var_kind:
                continue
            out.append(r)
        return out

    def vars(self):
        return sorted({r["var"] for r in self.records if r.get("type") == "access"})

    def show(self, var_prefix=""):
        """A compact listing for failure messages."""
        lines = []
        for r in self.accesses():
            if r["var"].startswith(var_prefix):
                top = r["stack"][0] if r["stack"] else {}
                lines.append("  t%s %-10s %s%s %s %s:%s %s" % (
                    r["thread"], r["kind"], r["var"], "[%s]" % r["key"] if r["key"] else "",
                    r["frame"], os.path.basename(top.get("file", "?")), top.get("line"),
                    top.get("function")))
        return "\n".join(lines[-80:])


def run(src, python, files=None, env=None, args=(), expect_rc=0, name="app.py"):
    """Write `src` as `name` (plus extra `files` {name: source}) in a fresh directory, run it under
    the preload with `python`, and return a Run with the dump --json records."""
    _counter[0] += 1
    d = os.path.join(os.environ.get("NGR_TMP", "."), "case%d" % _counter[0])
    tr = os.path.join(d, "traces")
    os.makedirs(tr)
    with open(os.path.join(d, name), "w") as f:
        f.write(textwrap.dedent(src))
    for fname, fsrc in (files or {}).items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(textwrap.dedent(fsrc))
    e = dict(os.environ)
    e["LD_PRELOAD"] = os.environ["NGR_PRELOAD"]
    e["NOGILRACE_TRACE_DIR"] = tr
    e.update({k: str(v) for k, v in (env or {}).items()})
    p = subprocess.run([python, name] + list(args), cwd=d, env=e, capture_output=True, text=True,
                       timeout=300)
    if expect_rc is not None and p.returncode != expect_rc:
        fail("%s %s exited %d (expected %d)\nstdout: %s\nstderr: %s" % (
            python, name, p.returncode, expect_rc, p.stdout[-2000:], p.stderr[-3000:]))
    dump = subprocess.run([os.environ["NGR_ANALYZER"], "dump", "--json", tr], capture_output=True,
                          text=True, timeout=300)
    if dump.returncode != 0:
        fail("dump --json failed (%d): %s" % (dump.returncode, dump.stderr[-2000:]))
    recs = []
    for line in dump.stdout.splitlines():
        line = line.strip()
        if line:
            recs.append(json.loads(line))
    return Run(d, p, recs)


def untraced(src, python, files=None, name="app.py", env=None):
    """Run the same program without the preload: its stdout, for comparisons."""
    _counter[0] += 1
    d = os.path.join(os.environ.get("NGR_TMP", "."), "plain%d" % _counter[0])
    os.makedirs(d)
    with open(os.path.join(d, name), "w") as f:
        f.write(textwrap.dedent(src))
    for fname, fsrc in (files or {}).items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(textwrap.dedent(fsrc))
    e = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    e.update({k: str(v) for k, v in (env or {}).items()})
    p = subprocess.run([python, name], cwd=d, env=e, capture_output=True, text=True, timeout=300)
    return p


def line_of(src, marker):
    """1-based line number of the line of `src` (dedented) containing `marker`."""
    for i, l in enumerate(textwrap.dedent(src).splitlines(), 1):
        if marker in l:
            return i
    raise AssertionError("marker %r not in source" % marker)


def top(rec):
    return rec["stack"][0] if rec["stack"] else {"file": None, "line": None, "function": None}


def at(recs, src, marker, function=None):
    """The records whose innermost frame is app.py at the line holding `marker`."""
    ln = line_of(src, marker)
    out = [r for r in recs if r["stack"] and os.path.basename(top(r)["file"]) == "app.py"
           and top(r)["line"] == ln]
    if function is not None:
        out = [r for r in out if top(r)["function"] == function]
    return out


if __name__ == "__main__":
    SRC = """\
        counter = 0
        def bump():
            global counter
            counter += 1          # BUMP
        bump()
        bump()
        print(counter)
    """
    for label, py in interpreters():
        r = run(SRC, py)
        check(r.stdout == "2\n", "[%s] program output %r" % (label, r.stdout))
        reads = at(r.accesses("app.counter", "read"), SRC, "# BUMP", "bump")
        writes = at(r.accesses("app.counter", "write"), SRC, "# BUMP", "bump")
        check(len(reads) == 2 and len(writes) == 2,
              "[%s] two reads and two writes of app.counter in bump():\n%s" % (label, r.show("app.")))
        print("[%s] helper ok: %d records, vars %s" % (label, len(r.records), r.vars()[:5]))
