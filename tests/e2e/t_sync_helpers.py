"""t_sync_helpers.py — shared by the t_sync_* tests: run a program traced, read `dump --json`.

Imported as ``from t_sync_helpers import ...``; run as a test it checks itself on a tiny program
(one lock, one thread) under the interpreter of this run (interp.py).
"""
import json
import os
import subprocess
import sys
import sysconfig

from interp import interpreters  # noqa: F401  (re-exported: the tests import it from here)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Run:
    """A traced run of `source` (written to <name>.py so module names are predictable)."""

    def __init__(self, python, name, source, env=None, label=""):
        self.dir = os.path.join(os.environ.get("NGR_TMP", "."), "%s-%s" % (name, label or "x"))
        os.makedirs(self.dir, exist_ok=True)
        self.prog = os.path.join(self.dir, name + ".py")
        with open(self.prog, "w") as f:
            f.write(source)
        self.tracedir = os.path.join(self.dir, "traces")
        os.makedirs(self.tracedir, exist_ok=True)
        e = dict(os.environ)
        e.update(LD_PRELOAD=os.environ["NGR_PRELOAD"], NOGILRACE_TRACE_DIR=self.tracedir)
        e.update(env or {})
        self.proc = subprocess.run([python, self.prog], env=e, cwd=self.dir, capture_output=True,
                                   text=True, timeout=120)
        # The same program untraced: the shim must not change what it prints or its status.
        plain_env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        plain_env.update({k: v for k, v in (env or {}).items()})
        self.plain = subprocess.run([python, self.prog], env=plain_env, cwd=self.dir,
                                    capture_output=True, text=True, timeout=120)
        d = subprocess.run([os.environ["NGR_ANALYZER"], "dump", "--json", self.tracedir],
                           capture_output=True, text=True, timeout=120)
        if d.returncode != 0:
            fail("dump --json failed (%d): %s" % (d.returncode, d.stderr[-2000:]))
        self.records = [json.loads(line) for line in d.stdout.splitlines() if line.strip()]

    def check_unchanged(self):
        check(self.proc.returncode == self.plain.returncode,
              "%s: exit status %d traced, %d untraced; stderr %s" %
              (self.prog, self.proc.returncode, self.plain.returncode, self.proc.stderr[-2000:]))
        check(self.proc.stdout == self.plain.stdout,
              "%s: output differs traced/untraced:\n%r\n%r" %
              (self.prog, self.proc.stdout, self.plain.stdout))

    def of(self, type_, **match):
        return [r for r in self.records if r.get("type") == type_ and
                all(r.get(k) == v for k, v in match.items())]

    def sync(self, **match):
        return self.of("sync", **match)

    def accesses(self, **match):
        return self.of("access", **match)

    def thread_of(self, name):
        """Thread number whose last recorded name is `name`."""
        nums = {r["thread"] for r in self.records if r.get("thread_name") == name}
        check(len(nums) == 1, "%s: one thread named %r expected, got %s" % (self.prog, name, nums))
        return nums.pop()

    def edge(self, obj, src_thread, dst_thread):
        """A SEND on obj in src_thread followed (by seq) by a RECV on it in dst_thread."""
        sends = [r["seq"] for r in self.sync(kind="send", obj=obj, thread=src_thread)]
        recvs = [r["seq"] for r in self.sync(kind="recv", obj=obj, thread=dst_thread)]
        return bool(sends and recvs and min(sends) < max(recvs))


def ext_suffix(python):
    return subprocess.run([python, "-c", "import sysconfig; "
                           "print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                          capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    prog = ("import threading\n"
            "lock = threading.Lock()\n"
            "n = 0\n"
            "def f():\n"
            "    global n\n"
            "    with lock:\n"
            "        n += 1\n"
            "t = threading.Thread(target=f, name='helper-t')\n"
            "t.start(); t.join()\n"
            "print(n)\n")
    for label, py in interpreters():
        r = Run(py, "selfcheck", prog, label=label)
        r.check_unchanged()
        check(r.proc.stdout == "1\n", "output %r" % r.proc.stdout)
        w = r.thread_of("helper-t")
        acq = r.sync(kind="acquire", obj="selfcheck.lock", thread=w)
        check(len(acq) == 1, "%s: one acquire of selfcheck.lock by helper-t, got %s" % (label, acq))
        print("ok", label)
