"""Corpus runner: run every tests/corpus/*.py under nogilrace and compare the findings with the
expectations written in the program's header.  Started by tests/corpus/run (see there for usage).

Header lines (anywhere in the file, one per line):
  # expect: KIND VAR         a finding of kind KIND on variable VAR must be reported (KIND may be
                             KIND1|KIND2: either, for a window the analyzer may classify either way)
  # expect: clean            nothing may be reported
  # also-ok: KIND VAR -- why an extra finding a racy program may also produce, with the reason
  # exit: N                  the status `nogilrace run` must exit with (default: 66 racy, 0 clean)
Any of them may be limited to some CPython versions with a bracketed guard after its name:
  # expect[3.13]: ...        only on 3.13          # expect[3.14+]: ...  on 3.14 and later
  # expect[-3.13]: ...       3.13 and earlier
for programs that drive a race of the standard library that a later version fixed (the program
then says, with `# expect[3.14+]: clean`, what the fixed version must give).
VAR may start with `{mod}`: the script's own module, which the hooks name either `__main__` or
after the file's stem.  Both spellings are accepted, nothing looser.  A finding about one item of a
dict matches its variable whether the report spells the key separately or as a `[key]` suffix.

A racy program passes when the set of (kind, variable) pairs reported equals its expected set
(plus any also-ok pairs); a clean program passes when nothing is reported.  Both also need the
expected exit status.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RACES_FOUND = 66
TIMEOUT = 120


# ---- expectations -------------------------------------------------------------------------

def target_version():
    """(major, minor) of the interpreter the programs run on."""
    out = subprocess.run([os.environ["NGR_PYTHON"], "-c",
                          "import sys; print('%d %d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def guard_holds(guard, version, where):
    """A header line's version guard: None (always), "3.13", "3.14+" or "-3.13"."""
    if guard is None:
        return True
    m = re.fullmatch(r"(-?)(\d+)\.(\d+)(\+?)", guard)
    if not m or (m.group(1) and m.group(4)):
        raise SystemExit(f"{where}: bad version guard [{guard}] (3.13, 3.14+ or -3.13)")
    v = (int(m.group(2)), int(m.group(3)))
    if m.group(1):
        return version <= v
    return version >= v if m.group(4) else version == v


class Program:
    def __init__(self, path, version):
        self.path = path
        self.name = os.path.basename(path)
        self.stem = self.name[:-3]
        self.expect = []      # (kind, var pattern)
        self.also_ok = []
        self.clean = False
        self.exit = None
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = re.match(r"#\s*(expect|also-ok|exit)(?:\[([^\]]*)\])?:\s*(.*?)\s*$", line)
                if not m:
                    continue
                what, guard, rest = m.groups()
                if not guard_holds(guard, version, f"{path}:{lineno}"):
                    continue
                if what == "exit":
                    self.exit = int(rest)
                elif what == "expect" and rest == "clean":
                    self.clean = True
                else:
                    spec = rest.split(" -- ")[0].split(None, 1)
                    if len(spec) != 2:
                        raise SystemExit(f"{path}:{lineno}: want '# {what}: KIND VAR'")
                    if what == "also-ok" and " -- " not in rest:
                        raise SystemExit(f"{path}:{lineno}: also-ok needs ' -- reason'")
                    (self.expect if what == "expect" else self.also_ok).append(tuple(spec))
        if self.clean == bool(self.expect):
            raise SystemExit(f"{path}: needs either '# expect: clean' or '# expect: KIND VAR' lines")
        if self.exit is None:
            self.exit = 0 if self.clean else RACES_FOUND

    def var_matches(self, pattern, var):
        var = strip_key(var)
        if pattern.startswith("{mod}"):
            rest = pattern[len("{mod}"):]
            return var in ("__main__" + rest, self.stem + rest)
        return var == pattern

    def matches(self, spec, finding):
        return finding[0] in spec[0].split("|") and self.var_matches(spec[1], finding[1])


def strip_key(var):
    """`app.cache['user:1']` -> `app.cache` (a report may spell the item's key inline)."""
    m = re.match(r"^(.*?)\[.*\]$", var)
    return m.group(1) if m else var


# ---- reading a JSON report ----------------------------------------------------------------

def findings_of(text):
    """(kind, variable) pairs of a `--format=json` report (docs/json-schema.md)."""
    text = text.strip()
    if not text:
        raise ValueError("empty report")
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
    out = []
    for doc in docs:
        items = doc
        if isinstance(doc, dict):
            for key in ("findings", "races", "reports"):
                if key in doc:
                    items = doc[key]
                    break
            else:
                items = [doc] if "kind" in doc else []
        for f in items:
            if not isinstance(f, dict) or "kind" not in f:
                continue
            var = f.get("var_name") or f.get("variable", f.get("var"))
            if isinstance(var, dict):
                var = var.get("name")
            out.append((f["kind"], str(var)))
    return out


# ---- running one program ------------------------------------------------------------------

def run_program(prog, env, logdir):
    """Returns (ok, reason, detail).  A failing program's traces are kept in the log directory
    (PROGRAM.traces/), so that the report can be run again on exactly what failed."""
    work = tempfile.mkdtemp(prefix=f"ngr-corpus-{prog.stem}-")
    traces = os.path.join(work, "traces")
    kept = os.path.join(logdir, prog.stem + ".traces")
    shutil.rmtree(kept, ignore_errors=True)
    result = (False, "did not run", "")
    try:
        result = run_traced(prog, env, logdir, work, traces)
        return result
    finally:
        if not result[0] and os.path.isdir(traces):
            shutil.copytree(traces, kept, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def run_traced(prog, env, logdir, work, traces):
    out_file = os.path.join(work, "program.out")
    # The program's own stdout/stderr go to a file so the report alone is on our stdout; `exec`
    # keeps the Python process the one `nogilrace run` started.
    cmd = [env["NGR_ANALYZER"], "run", "--format=json", "--keep-traces", traces, "--",
           "/bin/sh", "-c", 'exec "$0" "$@" >"$NGR_CORPUS_OUT" 2>&1',
           env["NGR_PYTHON"], prog.path]
    penv = dict(env, NGR_CORPUS_OUT=out_file)
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=work, env=penv, capture_output=True, text=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {TIMEOUT}s", ""
    secs = time.monotonic() - start
    with open(os.path.join(logdir, prog.stem + ".json"), "w") as f:
        f.write(p.stdout)
    prog_out = open(out_file, errors="replace").read() if os.path.exists(out_file) else ""
    with open(os.path.join(logdir, prog.stem + ".log"), "w") as f:
        f.write(f"$ {' '.join(cmd)}\nexit {p.returncode} after {secs:.2f}s\n"
                f"--- stderr\n{p.stderr}--- program output\n{prog_out}")
    try:
        found = set(findings_of(p.stdout))
    except (ValueError, json.JSONDecodeError) as e:
        tail = (p.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return False, f"no JSON report (exit {p.returncode}: {e}; stderr: {tail})", ""
    problems = []
    if prog.clean:
        for f in sorted(found):
            problems.append(f"unexpected {f[0]} {f[1]}")
    else:
        for spec in prog.expect:
            if not any(prog.matches(spec, f) for f in found):
                problems.append(f"missed {spec[0]} {spec[1]}")
        for f in sorted(found):
            if not any(prog.matches(s, f) for s in prog.expect + prog.also_ok):
                problems.append(f"unexpected {f[0]} {f[1]}")
    if p.returncode != prog.exit:
        problems.append(f"exit {p.returncode}, want {prog.exit}")
    return not problems, "; ".join(problems), f"{secs:.1f}s"


# ---- main ---------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="run the nogilrace corpus")
    ap.add_argument("programs", nargs="*", help="program names or paths (default: all)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="programs run at once (default 2)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per program")
    args = ap.parse_args()

    env = dict(os.environ)
    for var in ("NGR_ANALYZER", "NGR_PYTHON"):
        if not env.get(var):
            raise SystemExit(f"corpus: {var} not set (tests/corpus/run sets it)")
    env.pop("LD_PRELOAD", None)
    env.pop("NOGILRACE_TRACE_DIR", None)

    if args.programs:
        paths = [p if os.path.exists(p) else os.path.join(HERE, p if p.endswith(".py") else p + ".py")
                 for p in args.programs]
    else:
        paths = sorted(os.path.join(HERE, n) for n in os.listdir(HERE)
                       if n.endswith(".py") and n != "runner.py")
    version = target_version()
    progs = [Program(p, version) for p in paths]

    # scripts/check keeps each interpreter's logs apart (NGR_LOG_DIR=$BUILD/test-logs/<label>).
    logdir = os.path.join(env.get("NGR_LOG_DIR") or
                          os.path.join(env.get("NGR_BUILD", os.path.join(ROOT, "build")), "test-logs"),
                          "corpus")
    os.makedirs(logdir, exist_ok=True)
    for p in progs:
        for ext in (".json", ".log"):
            if os.path.exists(os.path.join(logdir, p.stem + ext)):
                os.unlink(os.path.join(logdir, p.stem + ext))

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(run_program, p, env, logdir): p for p in progs}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut].name] = fut.result()

    racy = [p for p in progs if not p.clean]
    clean = [p for p in progs if p.clean]
    for p in progs:
        ok, reason, detail = results[p.name]
        label = "clean" if p.clean else "racy "
        if not ok:
            print(f"FAIL  {label} {p.name}: {reason}")
        elif args.verbose:
            print(f"ok    {label} {p.name} ({detail})")
    r_ok = sum(results[p.name][0] for p in racy)
    c_ok = sum(results[p.name][0] for p in clean)

    def pct(a, b):
        return f"{100 * a // b if b else 100}%"

    print(f"logs: {logdir}")
    print(f"racy detected {r_ok}/{len(racy)} ({pct(r_ok, len(racy))}), "
          f"race-free clean {c_ok}/{len(clean)} ({pct(c_ok, len(clean))})")
    return 0 if r_ok == len(racy) and c_ok == len(clean) else 1


if __name__ == "__main__":
    sys.exit(main())
