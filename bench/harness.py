"""make bench: what nogilrace costs, next to what a user would run instead.

Run by scripts/bench with the free-threaded python, untraced: this process is only the orchestrator.
Every measured program is a child process; wall time is taken around it and its peak RSS comes
from os.wait4 (ru_maxrss of the child).  Arms are interleaved (A B A B ...) so that drift on a
shared machine hits all of them alike; each figure is a median with its min-max spread.

Environment (all optional):
  BUILD              build directory with libnogilrace.so, nogilrace-<tag>.so, nogilrace, gentrace
  BENCH_QUICK=1      a tiny subset (two workloads, 4 threads, one repetition, small sizes)
  BENCH_REPS         repetitions per arm (default 5)
  BENCH_THREADS      thread counts (default "1,4,16")
  BENCH_WORKLOADS    comma-separated subset of workload names
  BENCH_ALT_THREADS  thread counts at which the alternatives run (default "4")
  BENCH_ALT_REPS     repetitions for the alternatives (default 3)
  BENCH_ALT_SCALE    size factor for the alternatives, which are slow (default 0.2)
  BENCH_ALT_TIMEOUT  seconds before one run of an alternative is killed (default 60); the
                     ratio is then printed as a lower bound (">")
  BENCH_ALTS         comma-separated subset of settrace,threadcheck,pyvft (default all)
  BENCH_BIG_EVENTS   events in the synthetic analyzer trace (default 50000000)
  BENCH_TIMEOUT      seconds before one run is killed and reported as a timeout (default 300)
  BENCH_ANALYZER_TIMEOUT  the same for one analyzer run (default 180)
  BENCH_ANALYZER_RUNS  analyzer runs on the synthetic trace; the median run is reported (default 5:
                     on a shared VM the same binary was seen at 3.4 s and 5.4 s minutes apart)
  BENCH_BUDGET       seconds after which the alternatives still to run are skipped (default 1080),
                     so that make bench stays under 20 minutes
  BENCH_VENVS        where the alternatives' virtual environments live
                     (default ${XDG_CACHE_HOME:-~/.cache}/nogilrace/bench-venvs)

The table goes to stdout, $BUILD/bench.json gets every figure.  Nothing here fails because a
number is slow: floors are printed as PASS/BELOW, as information.
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
QUICK = os.environ.get("BENCH_QUICK") == "1"

# name, file, size (total work units), issue-4 group ("core" = the four the median floor covers)
WORKLOADS = [
    ("compute", "w_compute.py", 1_500_000, "core"),
    ("text", "w_text.py", 120_000, "core"),
    ("cache", "w_cache.py", 50_000, "core"),
    ("pipeline", "w_pipeline.py", 200_000, "core"),
    ("pool", "w_pool.py", 40_000, "other"),
    ("globals", "w_globals.py", 4_000_000, "worst"),
]

FLOOR_MEDIAN = 1.5      # issue 4: median slowdown over the core workloads at 4 and 16 threads
FLOOR_WORST = 3.0       # issue 4: worst of the core workloads
FLOOR_RSS = 1.5         # issue 4: peak RSS traced / untraced
FLOOR_EVPS = 10e6       # issue 5: analyzer events per second on a >= 50M-event trace


def env_list(name, default):
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- running one child ------------------------------------------------------------------------

class Run:
    """One finished child: wall seconds, peak RSS (KiB), exit status, output."""

    def __init__(self, wall, rss_kb, rc, out, err, timed_out, cpu=None):
        self.wall, self.rss_kb, self.rc, self.out, self.err, self.timed_out = wall, rss_kb, rc, out, err, timed_out
        self.cpu = cpu  # user + system seconds, when measured

    def check_line(self):
        for line in self.out.splitlines():
            if line.startswith("check "):
                return line
        return None


MEASURE = None  # $BUILD/measure (bench/measure.c), set in main()


def run(cmd, env=None, timeout=None, cwd=None):
    """Run cmd to the end (or kill its process group after timeout seconds).  Wall time and peak
    RSS come from bench/measure.c, which forks the command itself: ru_maxrss of a child forked
    straight from this Python process would include this process's own memory."""
    timeout = timeout or float(os.environ.get("BENCH_TIMEOUT", "300"))
    result_file = None
    if MEASURE:
        fd, result_file = tempfile.mkstemp(prefix="ngr-bench-measure.")
        os.close(fd)
        cmd = [MEASURE, result_file] + list(cmd)
    try:
        return _run(cmd, env, timeout, cwd, result_file)
    finally:
        if result_file:
            os.unlink(result_file)


def _run(cmd, env, timeout, cwd, result_file):
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                             start_new_session=True)
        killed = []

        def kill():
            killed.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out = fo.read().decode(errors="replace")
        err = fe.read().decode(errors="replace")
    rss = ru.ru_maxrss
    cpu = ru.ru_utime + ru.ru_stime
    if result_file and not killed:
        try:
            with open(result_file) as f:
                rc, w, r, c = f.read().split()
            p.returncode, wall, rss, cpu = int(rc), float(w), int(r), float(c)
        except (OSError, ValueError):
            pass  # measure itself failed: keep what wait4 saw
    return Run(wall, rss, p.returncode, out, err, bool(killed), cpu)


def error_line(text):
    """The most telling line of a failed child's stderr: an exception if there is one."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", x).strip() for x in text.splitlines()]
    lines = [x for x in lines if x and not set(x) <= set("=─═-")]
    for x in reversed(lines):
        if re.search(r"Error|Exception|exception|Traceback", x) and not x.startswith("File "):
            return x[:200]
    return (lines or ["no output"])[-1][:200]


def stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


# ---- the machine ------------------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    osname = platform.platform()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_kb / 1048576, 1),
        "os": osname,
        "kernel": platform.release(),
        "python": sys.version.split()[0] + (" free-threaded" if not sys._is_gil_enabled() else ""),
        "python_path": PY,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


# ---- traces: counted by the analyzer, with a small reader of our own as a fallback ------------

def trace_files(d):
    out = []
    for root, _, files in os.walk(d):
        out += [os.path.join(root, f) for f in files if f.endswith(".ngrtrace")]
    return sorted(out)


def tracestat(tools, files):
    """Counts from bench/tracestat.c over the given trace files (None if it cannot run)."""
    if not files or not os.access(tools.tracestat, os.X_OK):
        return None
    r = run([tools.tracestat] + files, timeout=600)
    try:
        return json.loads(r.out)
    except ValueError:
        return None


def analyze(analyzer, target, one_core=False):
    """Time `nogilrace report --format=json TARGET`; returns a dict with wall, rss and events.
    one_core: pin it to one CPU (taskset), as the issue-5 floor is stated per core."""
    cmd = [analyzer, "report", "--format=json", target]
    if one_core and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0"] + cmd
    r = run(cmd, timeout=float(os.environ.get("BENCH_ANALYZER_TIMEOUT", "180")))
    res = {"wall_s": r.wall, "cpu_s": r.cpu, "rss_kb": r.rss_kb, "rc": r.rc}
    if r.timed_out:
        res["error"] = f"killed after {r.wall:.0f} s (BENCH_ANALYZER_TIMEOUT)"
        res["events"] = None
        return res
    events = None
    try:
        doc = json.loads(r.out)
        if isinstance(doc, dict):
            for key in ("events", "events_read"):
                if isinstance(doc.get(key), int):
                    events = doc[key]
                    break
            if events is None and isinstance(doc.get("summary"), dict):
                events = doc["summary"].get("events")
            if isinstance(doc.get("summary"), dict) and isinstance(doc["summary"].get("races"), int):
                res["races"] = doc["summary"]["races"]
    except ValueError:
        pass
    res["events_from"] = "analyzer" if events is not None else None
    if r.rc not in (0, 66) or (not r.out.strip()):
        res["error"] = f"exit {r.rc}: " + (r.err.strip().splitlines() or ["no output"])[-1][:200]
    res["events"] = events
    return res


# ---- the tools ----------------------------------------------------------------------------------

class Tools:
    def __init__(self, build):
        self.build = build
        self.preload = os.path.join(build, "libnogilrace.so")
        self.analyzer = os.path.join(build, "nogilrace")
        self.gentrace = os.path.join(build, "gentrace")
        self.tracestat = os.path.join(build, "tracestat")
        self.nogilrace_status = None  # None = usable, else the reason why not
        self.preload_status = None    # the same for the preload alone (NOGILRACE_HOOKS=0)
        self.partial = None           # set when traces hold no accesses: figures are partial
        self.analyzer_status = None
        self.alts = {}  # name -> {"status": None or reason, "cmd": fn, "note": str, "version": str}

    # nogilrace: with NOGILRACE_HOOKS=0 the preload must write a trace with thread events in it
    # (the pthread-only arm); with the hooks, one with accesses in it (the nogilrace arm).
    def probe_nogilrace(self):
        tag = subprocess.run([PY, "-c", "import sys; print('cp%d%d%s' % (sys.version_info[0], "
                              "sys.version_info[1], sys.abiflags))"], capture_output=True, text=True).stdout.strip()
        hooks = os.path.join(self.build, f"nogilrace-{tag}.so")
        if not os.access(self.analyzer, os.X_OK):
            self.analyzer_status = "n/a: no analyzer build/nogilrace"
        if not os.path.exists(self.preload):
            self.preload_status = self.nogilrace_status = f"n/a: no preload {self.preload}"
            return
        self.preload_status = self.probe(False, "thread", "the preload wrote no thread events (shim not functional yet)")
        if not os.path.exists(hooks):
            self.nogilrace_status = f"n/a: no hooks library {hooks}"
        elif self.probe(True, "access", "") is not None:
            # Without access records, measure what the hooks do record, and say so everywhere.
            self.nogilrace_status = self.probe(True, "sync", "the trace holds neither accesses nor sync events")
            if self.nogilrace_status is None:
                self.partial = ("PARTIAL: the hooks recorded no accesses (access hooks missing?): "
                                "nogilrace figures cover the pthread and synchronisation hooks only")

    def probe(self, hooks, record, missing):
        d = tempfile.mkdtemp(prefix="ngr-bench-probe.")
        try:
            r = run([PY, os.path.join(HERE, "w_globals.py"), "2", "1000"], env=self.traced_env(d, hooks), timeout=60)
            files = trace_files(d)
            if r.rc != 0:
                return f"n/a: traced probe exited {r.rc}: {error_line(r.err)}"
            if not files:
                why = re.sub(r"^nogilrace: ", "", error_line(r.err))
                return "n/a: no trace written" + (": " + why[:120] if r.err.strip() else "")
            st = tracestat(self, files)
            if st is not None and not st[record]:
                return "n/a: " + missing
            return None
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def traced_env(self, trace_dir, hooks=True):
        env = dict(os.environ)
        env["LD_PRELOAD"] = self.preload
        env["NOGILRACE_TRACE_DIR"] = trace_dir
        if not hooks:
            env["NOGILRACE_HOOKS"] = "0"
        return env

    # the alternatives -----------------------------------------------------------------------
    def setup_alternatives(self, wanted):
        venvs = os.environ.get("BENCH_VENVS") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nogilrace", "bench-venvs")
        if "settrace" in wanted:
            self.alts["settrace"] = {
                "status": None, "version": "sys.settrace (CPython %s)" % sys.version.split()[0],
                "note": "bench/settrace_runner.py: line-event tracer recording each global load/store "
                        "(dis per line) into a per-thread shadow table",
                "cmd": lambda script, t, n: ([PY, os.path.join(HERE, "settrace_runner.py"), script, str(t), str(n)], {})}
        if "threadcheck" in wanted:
            self.alts["threadcheck"] = self.pip_venv(
                venvs, "threadcheck", "threadcheck==0.0.1.2", [],
                "threadcheck run SCRIPT (AST rewrite of the entry script; arguments through the "
                "environment, its CLI passes none)",
                lambda vpy, script, t, n: ([os.path.join(os.path.dirname(vpy), "threadcheck"), "run", script],
                                           {"NGR_BENCH_THREADS": str(t), "NGR_BENCH_SIZE": str(n)}))
        if "pyvft" in wanted:
            self.alts["pyvft"] = self.pip_venv(
                venvs, "pyvft", "pyvft==0.2.0", ["--ignore-requires-python"],
                "python -m pyvft SCRIPT ARGS (VerifiedFT v2). Declares Requires-Python >=3.14: "
                "installed on 3.13t with --ignore-requires-python",
                lambda vpy, script, t, n: ([vpy, "-m", "pyvft", script, str(t), str(n)], {}))

    def pip_venv(self, venvs, name, req, pip_extra, note, make_cmd):
        entry = {"status": None, "version": req, "note": note}
        venv = os.path.join(venvs, name)
        vpy = os.path.join(venv, "bin", "python")
        stamp = os.path.join(venv, ".nogilrace-bench")
        want = f"{PY}|{req}|{' '.join(pip_extra)}"
        ok = os.path.exists(stamp) and open(stamp).read() == want and os.access(vpy, os.X_OK)
        if not ok:
            log(f"bench: creating {venv} with {req}")
            shutil.rmtree(venv, ignore_errors=True)
            r = subprocess.run([PY, "-m", "venv", venv], capture_output=True, text=True)
            if r.returncode != 0:
                entry["status"] = "n/a: venv failed: " + r.stderr.strip()[-200:]
                return entry
            r = subprocess.run([vpy, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + pip_extra + [req],
                               capture_output=True, text=True)
            if r.returncode != 0:
                lines = [x for x in r.stderr.splitlines() if x.startswith("ERROR")] or r.stderr.splitlines() or ["?"]
                entry["status"] = f"n/a: pip install {req} failed on {sys.version.split()[0]}t: {lines[-1][:200]}"
                return entry
            with open(stamp, "w") as f:
                f.write(want)
        entry["cmd"] = lambda script, t, n: make_cmd(vpy, script, t, n)
        return entry


# ---- measuring one workload at one thread count -------------------------------------------------

def measure(tools, name, script, size, threads, reps, workdir):
    res = {"workload": name, "threads": threads, "size": size}
    base_cmd = [PY, script, str(threads), str(size)]
    arms = ["untraced"]
    if tools.nogilrace_status is None:
        arms.append("nogilrace")
    if tools.preload_status is None and threads == 16:
        arms.append("hooks_off")
    walls = {a: [] for a in arms}
    rsss = {a: [] for a in arms}
    checks = {}
    failed = {}  # arm -> how one of its runs failed: no ratio is computed for it
    problems = []
    last_trace_dir = None
    trace_info = []
    for rep in range(reps):
        for arm in arms:
            env = None
            tdir = None
            if arm != "untraced":
                tdir = os.path.join(workdir, f"{name}-{threads}-{arm}-{rep}")
                os.makedirs(tdir)
                env = tools.traced_env(tdir, hooks=(arm == "nogilrace"))
            r = run(base_cmd, env=env)
            if r.rc != 0 or r.timed_out:
                failed.setdefault(arm, f"exit {r.rc}" + (" (SIGSEGV)" if r.rc in (139, -11) else "")
                                  + (" (timeout)" if r.timed_out else ""))
                problems.append(f"{arm} exit {r.rc}{' (timeout)' if r.timed_out else ''}: {error_line(r.err)}")
            walls[arm].append(r.wall)
            rsss[arm].append(r.rss_kb)
            checks.setdefault(arm, set()).add(r.check_line())
            if tdir:
                files = trace_files(tdir)
                size_b = sum(os.path.getsize(f) for f in files)
                alloc_b = sum(os.stat(f).st_blocks * 512 for f in files)
                trace_info.append((arm, len(files), size_b, alloc_b))
                if arm == "nogilrace" and rep == reps - 1:
                    last_trace_dir = tdir
                else:
                    shutil.rmtree(tdir, ignore_errors=True)
    base_check = checks["untraced"]
    if None in base_check or len(base_check) != 1:
        problems.append(f"untraced self-check missing or unstable: {sorted(map(str, base_check))}")
    for arm in arms[1:]:
        if checks[arm] != base_check:
            problems.append(f"{arm} printed {sorted(map(str, checks[arm]))}, untraced {sorted(map(str, base_check))}")
    res["check"] = sorted(map(str, base_check))[0]
    for arm in arms:
        res[arm] = {"wall_s": stats(walls[arm]), "rss_kb": stats(rsss[arm]), "walls": walls[arm], "rss": rsss[arm]}
    u = res["untraced"]
    for arm in arms[1:]:
        a = res[arm]
        if arm in failed:
            a["failed"] = failed[arm]  # a crashed run's time says nothing about the cost
            continue
        a["ratio"] = a["wall_s"]["median"] / u["wall_s"]["median"]
        a["rss_ratio"] = a["rss_kb"]["median"] / u["rss_kb"]["median"]
    if tools.preload_status is not None and threads == 16:
        res["hooks_off"] = {"status": tools.preload_status}
    if tools.nogilrace_status is not None:
        res["nogilrace"] = {"status": tools.nogilrace_status}
    elif last_trace_dir:
        nt = [x for x in trace_info if x[0] == "nogilrace"]
        ng = res["nogilrace"]
        ng["trace_files"] = nt[-1][1]
        ng["trace_bytes"] = nt[-1][2]
        ng["trace_bytes_allocated"] = nt[-1][3]
        st = tracestat(tools, trace_files(last_trace_dir))
        ng["tracestat"] = st
        ev = st["events"] if st else None
        if st and (st["bad_crc"] or st["unsealed"] or st["finished"] != st["files"]):
            problems.append(f"trace: {st['bad_crc']} chunks with a bad CRC, {st['unsealed']} unsealed, "
                            f"{st['files'] - st['finished']} of {st['files']} files not FINISHED")
        if st and st["end_records"] != st["records"]:
            res.setdefault("notes", []).append(f"the END record counts {st['end_records']} records, "
                                               f"the trace holds {st['records']}")
        if tools.analyzer_status is None:
            ng["analyzer"] = analyze(tools.analyzer, last_trace_dir)
            aev = ng["analyzer"].get("events")
            if ng["analyzer"].get("error"):
                problems.append("analyzer " + ng["analyzer"]["error"])
            if aev is not None and ev is not None and aev != ev:
                problems.append(f"analyzer counted {aev} events, tracestat {ev}")
            if ev is None:
                ev = aev
        else:
            ng["analyzer"] = {"status": tools.analyzer_status}
        ng["events"] = ev
        if ev:
            ng["bytes_per_event"] = ng["trace_bytes"] / ev
            a = ng["analyzer"]
            if a.get("wall_s") and not a.get("error"):
                a["events_per_s"] = ev / a["wall_s"]
        shutil.rmtree(last_trace_dir, ignore_errors=True)

    if problems:
        res["problems"] = problems
    return res


def measure_alternatives(tools, res, script, alt_reps, alt_scale, workdir):
    """The alternatives on one workload/thread count, into res: at a smaller size (they are
    slow), interleaved with untraced runs of that same size."""
    size, threads = res["size"], res["threads"]
    small = max(threads, int(size * alt_scale))
    res["alt_size"] = small
    runnable = [k for k, v in tools.alts.items() if v["status"] is None]
    aw = {k: [] for k in ["untraced"] + runnable}
    ar = {k: [] for k in aw}
    achecks = {k: set() for k in aw}
    alt_out = {}
    alt_events = {}
    alt_timeout = float(os.environ.get("BENCH_ALT_TIMEOUT", "60"))
    for rep in range(alt_reps):
        for k in aw:
            if k in alt_out:
                continue  # timed out or broken once: no point repeating it
            if k == "untraced":
                cmd, extra = [PY, script, str(threads), str(small)], {}
            else:
                cmd, extra = tools.alts[k]["cmd"](script, threads, small)
            env = dict(os.environ, **extra)
            r = run(cmd, env=env, cwd=workdir, timeout=None if k == "untraced" else alt_timeout)
            if r.timed_out:
                alt_out[k] = f"killed after {r.wall:.0f} s (BENCH_ALT_TIMEOUT)"
                aw[k] = [r.wall]
                ar[k] = [r.rss_kb]
                continue
            if r.check_line() is None:
                alt_out[k] = f"no self-check output (exit {r.rc}): " + error_line(r.err)
            aw[k].append(r.wall)
            ar[k].append(r.rss_kb)
            achecks[k].add(r.check_line())
            m = re.search(r"settrace_runner: (\d+) global accesses recorded", r.err)
            if m:
                alt_events[k] = int(m.group(1))
    res["alt_untraced"] = {"wall_s": stats(aw["untraced"]), "rss_kb": stats(ar["untraced"])}
    res["alternatives"] = {}
    for k in tools.alts:
        if k not in aw:
            res["alternatives"][k] = {"status": tools.alts[k]["status"]}
            continue
        e = {"wall_s": stats(aw[k]), "rss_kb": stats(ar[k]), "walls": aw[k]}
        e["ratio"] = e["wall_s"]["median"] / res["alt_untraced"]["wall_s"]["median"]
        e["rss_ratio"] = e["rss_kb"]["median"] / res["alt_untraced"]["rss_kb"]["median"]
        if k in alt_events:
            e["events"] = alt_events[k]
        if k in alt_out:
            e["status"] = alt_out[k]
            e["timed_out"] = "killed after" in alt_out[k]
        elif achecks[k] != achecks["untraced"]:
            e["status"] = f"self-check differs: {sorted(map(str, achecks[k]))}"
        res["alternatives"][k] = e


# ---- the big synthetic trace ---------------------------------------------------------------------

def validate_gentrace(tools, workdir):
    """Generate a small synthetic trace and read it back with `nogilrace dump --json`: the
    analyzer must accept it whole (finished, no warnings) and count what gentrace wrote."""
    path = os.path.join(workdir, "small.ngrtrace")
    g = run([tools.gentrace, "--events", "20000", "--seed", "7", "-o", path], timeout=60)
    m = re.search(r"(\d+) events, (\d+) records", g.out)
    if g.rc != 0 or not m:
        return f"gentrace exit {g.rc}: {error_line(g.err)}"
    written, records = int(m.group(1)), int(m.group(2))  # records: END included
    d = run([tools.analyzer, "dump", "--json", path], timeout=120)
    os.unlink(path)
    if d.rc != 0:
        return f"dump --json exit {d.rc}: {error_line(d.err)}"
    counts = {}
    finished = end = None
    warnings = []
    locked = unlocked = 0
    for line in d.out.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            return f"dump --json printed a non-JSON line: {line[:120]}"
        t = rec.get("type")
        counts[t] = counts.get(t, 0) + 1
        if t == "header":
            finished = rec.get("finished")
        elif t == "end":
            end = rec.get("events")
        elif t == "note" and rec.get("kind") == "warning":
            warnings.append(rec.get("message"))
        elif t == "access":
            if rec.get("locks"):
                locked += 1
            else:
                unlocked += 1
    seen = counts.get("access", 0) + counts.get("sync", 0) + counts.get("thread", 0)
    problems = []
    if finished is not True:
        problems.append(f"header finished={finished}")
    if end != records:
        problems.append(f"end record read as {end} records, gentrace wrote {records}")
    if seen != written:
        problems.append(f"dump shows {seen} access/sync/thread records, gentrace wrote {written}")
    if warnings:
        problems.append(f"warnings: {warnings[:3]}")
    if not locked or locked < 3 * unlocked:
        problems.append(f"lockset replay looks wrong: {locked} accesses with locks, {unlocked} without")
    return "; ".join(problems) or None


def big_trace(tools, events, workdir):
    res = {"events_requested": events}
    if not os.access(tools.gentrace, os.X_OK):
        res["status"] = "n/a: no gentrace binary"
        return res
    if tools.analyzer_status is None:
        res["validation"] = validate_gentrace(tools, workdir) or "ok: nogilrace dump --json reads it whole"
        log(f"bench: gentrace validation: {res['validation']}")
    path = os.path.join(workdir, "big.ngrtrace")
    r = run([tools.gentrace, "--events", str(events), "-o", path], timeout=900)
    if r.rc != 0:
        res["status"] = f"n/a: gentrace exit {r.rc}: {r.err.strip()[-200:]}"
        return res
    res["gen_wall_s"] = r.wall
    res["trace_bytes"] = os.path.getsize(path)
    st = tracestat(tools, [path])
    res["tracestat"] = st
    res["events_written"] = st["events"] if st else events
    if tools.analyzer_status is not None:
        res["status"] = tools.analyzer_status
    else:
        # the median of several runs: one run on a shared virtual machine can be slowed by
        # anything else that happens then (the first touch of fresh memory costs the most)
        runs = [analyze(tools.analyzer, path, one_core=True)
                for _ in range(max(1, int(os.environ.get("BENCH_ANALYZER_RUNS", "5"))))]
        failed = [x for x in runs if x.get("error")]
        a = failed[0] if failed else sorted(runs, key=lambda x: x["wall_s"])[len(runs) // 2]
        a["runs_wall_s"] = [round(x["wall_s"], 3) for x in runs]
        res["analyzer"] = a
        if a.get("error"):
            res["status"] = "n/a: analyzer " + a["error"]
        else:
            ev = a.get("events") or res["events_written"]
            res["events"] = ev
            res["events_per_s"] = ev / a["wall_s"]
            if a.get("cpu_s"):
                res["events_per_cpu_s"] = ev / a["cpu_s"]
            res["bytes_per_event"] = res["trace_bytes"] / ev
            # gentrace plants racy read-modify-writes: no finding means the timing did not run
            # the real analysis (or the generator lost its races)
            res["races"] = a.get("races")
            if not res["races"]:
                res["problem"] = (f"the analyzer reported {res['races']} findings on it; gentrace plants "
                                  "racy read-modify-writes, so the timed run did not do the real analysis")
    os.unlink(path)
    return res


# ---- output ---------------------------------------------------------------------------------------

def fmt_s(st):
    if not st:
        return "-"
    return f"{st['median']:.2f} [{st['min']:.2f}-{st['max']:.2f}]"


def fmt_x(v):
    return "-" if v is None else f"{v:.2f}x"


def fmt_n(v):
    if v is None:
        return "-"
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.1f}{suf}"
    return str(int(v))


def table(rows, header, left=(0,)):
    """Plain-text table; columns in `left` are left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def floors(results, big, tools):
    out = []

    def verdict(ok):
        return "PASS" if ok else "BELOW"

    if tools.nogilrace_status is None:
        for t in (4, 16):
            rs = [r["nogilrace"]["ratio"] for r in results
                  if r["threads"] == t and dict((w[0], w[3]) for w in WORKLOADS)[r["workload"]] == "core"
                  and "ratio" in r.get("nogilrace", {})]
            if rs:
                med, worst = statistics.median(rs), max(rs)
                out.append({"issue": 4, "what": f"median slowdown, compute/text/cache/pipeline, {t} threads",
                            "value": med, "floor": f"<= {FLOOR_MEDIAN}x", "verdict": verdict(med <= FLOOR_MEDIAN)})
                out.append({"issue": 4, "what": f"worst slowdown of those, {t} threads",
                            "value": worst, "floor": f"<= {FLOOR_WORST}x", "verdict": verdict(worst <= FLOOR_WORST)})
        rss = [r["nogilrace"]["rss_ratio"] for r in results if "rss_ratio" in r.get("nogilrace", {})]
        if rss:
            out.append({"issue": 4, "what": "worst peak RSS ratio, all workloads", "value": max(rss),
                        "floor": f"<= {FLOOR_RSS}x", "verdict": verdict(max(rss) <= FLOOR_RSS)})
        crashed = [f"{r['workload']} x{r['threads']} ({r['nogilrace']['failed']})" for r in results
                   if r.get("nogilrace", {}).get("failed")]
        if crashed:
            out.append({"issue": 4, "what": "traced runs that failed (no ratio)", "value": None,
                        "floor": "the program unharmed", "verdict": "FAILED: " + ", ".join(crashed)})
    else:
        out.append({"issue": 4, "what": "slowdown floors", "value": None, "floor": "", "verdict": tools.nogilrace_status})
    for r in results:
        h = r.get("hooks_off")
        if h and "ratio" in h:
            # noise: the interquartile range of the untraced runs, relative, at least 5%
            walls = r["untraced"]["walls"]
            q = statistics.quantiles(walls, n=4, method="inclusive") if len(walls) >= 2 else [walls[0]] * 3
            noise = max((q[2] - q[0]) / statistics.median(walls), 0.05)
            out.append({"issue": 3, "what": f"NOGILRACE_HOOKS=0, {r['workload']}, 16 threads",
                        "value": h["ratio"], "floor": f"within noise (1 +- {noise:.2f})",
                        "verdict": verdict(abs(h["ratio"] - 1) <= noise)})
    if tools.preload_status is not None:
        out.append({"issue": 3, "what": "NOGILRACE_HOOKS=0 overhead", "value": None, "floor": "within noise",
                    "verdict": tools.preload_status})
    if big.get("events_per_s"):
        out.append({"issue": 5, "what": f"analyzer throughput, {fmt_n(big['events'])}-event synthetic trace",
                    "value": big["events_per_s"], "floor": ">= 10M events/s",
                    "verdict": verdict(big["events_per_s"] >= FLOOR_EVPS)})
        if big.get("events_per_cpu_s"):
            out.append({"issue": 5, "what": "the same per CPU second (load on a shared machine inflates wall time)",
                        "value": big["events_per_cpu_s"], "floor": ">= 10M events/s",
                        "verdict": verdict(big["events_per_cpu_s"] >= FLOOR_EVPS)})
        out.append({"issue": 5, "what": "findings on it (gentrace plants races)", "value": big.get("races"),
                    "floor": "> 0", "verdict": "PROBLEM: " + big["problem"] if big.get("problem") else "PASS"})
        out.append({"issue": 5, "what": "analyzer peak RSS on it", "value": big["analyzer"]["rss_kb"] * 1024,
                    "floor": "(reported)", "verdict": ""})
    else:
        out.append({"issue": 5, "what": "analyzer throughput", "value": None, "floor": ">= 10M events/s",
                    "verdict": big.get("status", "n/a")})
    return out


def main():
    t_start = time.time()
    build = os.path.abspath(os.environ.get("BUILD") or os.path.join(ROOT, "build"))
    reps = int(os.environ.get("BENCH_REPS", "1" if QUICK else "5"))
    thread_counts = [int(x) for x in env_list("BENCH_THREADS", "4" if QUICK else "1,4,16")]
    alt_threads = [int(x) for x in env_list("BENCH_ALT_THREADS", "4")]
    alt_reps = int(os.environ.get("BENCH_ALT_REPS", "1" if QUICK else "3"))
    alt_scale = float(os.environ.get("BENCH_ALT_SCALE", "0.2"))
    size_scale = 0.1 if QUICK else 1.0
    wanted = env_list("BENCH_WORKLOADS", "compute,cache" if QUICK else ",".join(w[0] for w in WORKLOADS))
    alts_wanted = env_list("BENCH_ALTS", "settrace" if QUICK else "settrace,threadcheck,pyvft")
    big_events = int(os.environ.get("BENCH_BIG_EVENTS", "1000000" if QUICK else "50000000"))

    global MEASURE
    if os.access(os.path.join(build, "measure"), os.X_OK):
        MEASURE = os.path.join(build, "measure")
    else:
        log("bench: no $BUILD/measure: peak RSS figures include the orchestrator's own memory")
    tools = Tools(build)
    info = machine()
    log(f"bench: {info['cpu']}, {info['nproc']} cores, load {info['loadavg_at_start']}, python {info['python']}")
    tools.probe_nogilrace()
    if tools.nogilrace_status:
        log(f"bench: nogilrace rows: {tools.nogilrace_status}")
    if tools.partial:
        log(f"bench: {tools.partial}")
    if tools.preload_status:
        log(f"bench: NOGILRACE_HOOKS=0 rows: {tools.preload_status}")
    if tools.analyzer_status is None and not os.access(tools.analyzer, os.X_OK):
        tools.analyzer_status = "n/a: no analyzer build/nogilrace"
    tools.setup_alternatives(alts_wanted)

    workdir = tempfile.mkdtemp(prefix="ngr-bench.", dir=os.environ.get("BENCH_TMP") or build)
    results = []
    budget = float(os.environ.get("BENCH_BUDGET", "1080"))
    try:
        # the analyzer floor first, then nogilrace on every workload, then the (slow) alternatives
        log(f"bench: synthetic trace of {fmt_n(big_events)} events")
        big = big_trace(tools, big_events, workdir)
        scripts = {}
        for name, fname, size, _ in WORKLOADS:
            if name not in wanted:
                continue
            scripts[name] = os.path.join(HERE, fname)
            for t in thread_counts:
                n = max(t, int(size * size_scale))
                log(f"bench: {name} x{t} (size {n}, {reps} reps)")
                results.append(measure(tools, name, scripts[name], n, t, reps, workdir))
        for r in results:
            if r["threads"] not in alt_threads or not tools.alts:
                continue
            if time.time() - t_start > budget:
                r["alternatives"] = {k: {"status": f"skipped: past the time budget ({budget:.0f} s, BENCH_BUDGET)"}
                                     for k in tools.alts}
                continue
            log(f"bench: alternatives on {r['workload']} x{r['threads']} ({alt_reps} reps)")
            measure_alternatives(tools, r, scripts[r["workload"]], alt_reps, alt_scale, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    fl = floors(results, big, tools)
    if tools.partial:
        for f in fl:
            if f["issue"] == 4 and f["verdict"] in ("PASS", "BELOW"):
                f["verdict"] += " (partial: no access hooks)"
    doc = {"machine": info,
           "config": {"reps": reps, "threads": thread_counts, "alt_threads": alt_threads, "alt_reps": alt_reps,
                      "alt_scale": alt_scale, "quick": QUICK, "build": build},
           "alternatives": {k: {kk: vv for kk, vv in v.items() if kk != "cmd"} for k, v in tools.alts.items()},
           "nogilrace_status": tools.nogilrace_status or tools.partial or "ok",
           "workloads": results, "big_trace": big, "floors": fl}
    doc["duration_s"] = time.time() - t_start
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    os.makedirs(build, exist_ok=True)
    with open(os.path.join(build, "bench.json"), "w") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(build, "bench.md"), "w") as f:
        f.write(markdown(doc))
    print_report(doc)


def markdown(doc):
    """The main figures as a Markdown table, for docs/performance.md."""
    info = doc["machine"]
    alts = list(doc["alternatives"])
    out = [f"Measured {info['date']} on {info['cpu']} ({info['nproc']} cores, {info['mem_gib']} GiB, {info['os']}), "
           f"CPython {info['python']}; medians of {doc['config']['reps']} interleaved runs.", ""]
    if doc["nogilrace_status"] != "ok":
        out[-1:] = ["", f"nogilrace: {doc['nogilrace_status']}", ""]
    head = ["workload", "threads", "untraced s", "nogilrace", "peak RSS", "events", "B/event", "analyzer ev/s"]
    head += [f"{a}*" for a in alts]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for r in doc["workloads"]:
        ng = r.get("nogilrace", {})
        an = ng.get("analyzer", {})
        row = [r["workload"], str(r["threads"]), f"{r['untraced']['wall_s']['median']:.2f}",
               fmt_x(ng.get("ratio")) if "ratio" in ng else ng.get("failed", "n/a"), fmt_x(ng.get("rss_ratio")),
               fmt_n(ng.get("events")), f"{ng['bytes_per_event']:.1f}" if ng.get("bytes_per_event") else "-",
               fmt_n(an.get("events_per_s"))]
        for a in alts:
            e = r.get("alternatives", {}).get(a)
            if e is None:
                row.append("")
            elif e.get("timed_out"):
                row.append(">" + fmt_x(e["ratio"]))
            elif e.get("status") or "ratio" not in e:
                st = e.get("status", "")
                row.append("failed" if st.startswith("no self-check") else "skipped" if st.startswith("skipped") else "n/a")
            else:
                row.append(fmt_x(e["ratio"]))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append(f"\\* at {doc['config']['alt_scale']:g}x the size, against untraced runs of that size.")
    return "\n".join(out) + "\n"


def print_report(doc):
    info = doc["machine"]
    alts = list(doc["alternatives"])
    print(f"nogilrace bench — {info['date']} — {info['cpu']}, {info['nproc']} cores, {info['mem_gib']} GiB, "
          f"{info['os']}, Python {info['python']}")
    print(f"wall seconds: median [min-max] of {doc['config']['reps']} interleaved runs; ratios are medians "
          f"over untraced; alternatives at {doc['config']['alt_scale']:g}x size vs their own untraced runs")
    if doc["nogilrace_status"] != "ok":
        print(f"nogilrace: {doc['nogilrace_status']}")
    print()
    header = ["workload", "thr", "untraced s", "nogilrace s", "ratio", "RSS x", "events", "B/ev", "analyze s",
              "ev/s"] + [f"{a} x" for a in alts]
    rows = []
    for r in doc["workloads"]:
        ng = r.get("nogilrace", {})
        an = ng.get("analyzer", {})
        row = [r["workload"], r["threads"], fmt_s(r["untraced"]["wall_s"]),
               ng["failed"] if ng.get("failed") else fmt_s(ng.get("wall_s")) if "wall_s" in ng else "n/a",
               fmt_x(ng.get("ratio")), fmt_x(ng.get("rss_ratio")), fmt_n(ng.get("events")),
               f"{ng['bytes_per_event']:.1f}" if ng.get("bytes_per_event") else "-",
               f"{an['wall_s']:.2f}" if an.get("events_per_s") else "-", fmt_n(an.get("events_per_s"))]
        for a in alts:
            e = r.get("alternatives", {}).get(a)
            if e is None:
                row.append("-")
            elif e.get("timed_out"):
                row.append(">" + fmt_x(e["ratio"]))
            elif e.get("status", "").startswith("skipped"):
                row.append("skipped")
            elif e.get("status"):
                row.append("failed")
            elif "ratio" in e:
                row.append(fmt_x(e["ratio"]))
            else:
                row.append("n/a")
        if r.get("problems"):
            row[0] += " !"
        rows.append(row)
    print(table(rows, header))
    notes = []
    for r in doc["workloads"]:
        for p in r.get("problems", []):
            notes.append(f"! {r['workload']} x{r['threads']}: {p}")
        for p in r.get("notes", []):
            notes.append(f"note: {r['workload']} x{r['threads']}: {p}")
        for a, e in r.get("alternatives", {}).items():
            if e.get("status"):
                notes.append(f"! {a} on {r['workload']} x{r['threads']}: {e['status']}")
    hooks_rows = [r for r in doc["workloads"] if "wall_s" in r.get("hooks_off", {})]
    if hooks_rows:
        print()
        print(table([[r["workload"], r["threads"], fmt_s(r["untraced"]["wall_s"]), fmt_s(r["hooks_off"]["wall_s"]),
                      fmt_x(r["hooks_off"].get("ratio")) if "ratio" in r["hooks_off"] else r["hooks_off"]["failed"],
                      fmt_x(r["hooks_off"].get("rss_ratio"))] for r in hooks_rows],
                    ["NOGILRACE_HOOKS=0", "thr", "untraced s", "pthread-only s", "ratio", "RSS x"]))
    print()
    print("alternatives:")
    for a, e in doc["alternatives"].items():
        print(f"  {a}: {e.get('version')}: {e['status'] if e.get('status') else 'ran'} — {e.get('note', '')}")
    big = doc["big_trace"]
    print()
    if big.get("events_per_s"):
        an = big["analyzer"]
        cpu = (f"; {an['cpu_s']:.2f} s CPU = {fmt_n(big['events_per_cpu_s'])} events per CPU second"
               if big.get("events_per_cpu_s") else "")
        print(f"synthetic trace (bench/gentrace): {fmt_n(big['events'])} events, {big['trace_bytes'] / 2**30:.2f} GiB "
              f"({big['bytes_per_event']:.1f} B/event), analyzer on one core {an['wall_s']:.2f} s wall = "
              f"{fmt_n(big['events_per_s'])} events/s{cpu} (median of runs taking "
              f"{', '.join(f'{w:.2f}' for w in an.get('runs_wall_s', [an['wall_s']]))} s), "
              f"peak RSS {an['rss_kb'] / 1024:.0f} MiB, "
              f"{big.get('races')} findings")
        if big.get("problem"):
            print(f"! synthetic trace: {big['problem']}")
    else:
        print(f"synthetic trace: {big.get('status')}")
    if big.get("validation"):
        print(f"synthetic trace read back with dump --json: {big['validation']}")
    print()
    print(table([[f"#{f['issue']}", f["what"],
                  "-" if f["value"] is None else str(f["value"]) if f["what"].startswith("findings") else
                  (fmt_n(f["value"]) + ("B" if "RSS on" in f["what"] else "/s")
                                                  if f["value"] > 1000 else fmt_x(f["value"])),
                  f["floor"], f["verdict"][:100]] for f in doc["floors"]],
                ["issue", "floor check (information, never fails)", "measured", "floor", "verdict"],
                left=(0, 1, 3, 4)))
    if notes:
        print()
        print("\n".join(notes))
    print()
    print(f"load average at start {info['loadavg_at_start']}, at end {info.get('loadavg_at_end')} (a shared machine "
          f"makes the spread wider)")
    print(f"bench.json: {os.path.join(doc['config']['build'], 'bench.json')}; took {doc['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
