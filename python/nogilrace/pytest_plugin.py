"""pytest --nogilrace: the test session traced, each race named with the tests it ran in.

Installed with the package (entry point pytest11), off unless asked.  With --nogilrace:

* the session runs traced: a pytest process that is not (no `_nogilrace` module, which the
  tracer's hooks library puts into sys.modules) re-executes itself at once, before pytest
  captures anything, with libnogilrace.so preloaded and a fresh trace directory (or
  --nogilrace-keep-traces DIR).  Every Python process the tests start is traced too;
  pytest-xdist's workers are, and write one trace each.
* each test's setup, call and teardown is a span in the trace (`_nogilrace.mark`, the test's
  node id): threads started inside a test (pytest-run-parallel's --parallel-threads) and workers
  handed its tasks run in it, so every finding names the tests its accesses ran in.
* when the session ends, the process that started it analyses every trace of the directory
  together (`nogilrace report --format=json`), prints a race section in the terminal summary
  and fails the session (exit status 1) when a race is found that is not in the baseline
  (--nogilrace-baseline FILE).  --nogilrace-report=json:PATH (sarif:PATH, text:PATH; repeat for
  more) writes the report.
* under `nogilrace run -- pytest --nogilrace` the tests are marked, and `run` reports.

Everything the plugin keeps lives on its own object, not in module globals: the plugin is traced
like any other code, and must not be a source of findings itself.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

# Set by the re-executed session (and inherited by every process it starts): the trace
# directory this session's controller analyses and, unless it was --nogilrace-keep-traces, removes.
ENV_OWNED = "NOGILRACE_PYTEST_TRACE_DIR"
ENV_KEEP = "NOGILRACE_PYTEST_KEEP"
PHASES = {"setup": 1, "call": 2, "teardown": 3}
FORMATS = ("json", "sarif", "text")
# Races inside the test runner's own machinery, which no test can fix, suppressed in every
# session (docs/suppressions.md has the rule syntax; the user's --nogilrace-suppressions add to it).
RUNNER_RULES = (
    # pytest-xdist's transport: ChannelFactory._finished_receiving lists the channels table
    # (a WeakValueDictionary) without the lock its writers take, while the main thread opens
    # and closes channels: an iteration during mutation in every session with -n.
    "file:*/execnet/gateway_base.py\n"
)


def pytest_addoption(parser):
    g = parser.getgroup("nogilrace", "data races on free-threaded CPython (nogilrace)")
    g.addoption("--nogilrace", action="store_true", default=False,
                help="trace the session and fail it when a race is found; each race names its tests")
    g.addoption("--nogilrace-report", action="append", default=[], metavar="FORMAT:PATH",
                help="also write the report to PATH; FORMAT json, sarif or text (repeatable)")
    g.addoption("--nogilrace-baseline", metavar="FILE", default=None,
                help="an earlier JSON report: races whose id is in it are known and do not fail the session")
    g.addoption("--nogilrace-suppressions", metavar="FILE", default=None,
                help="suppressions file (docs/suppressions.md)")
    g.addoption("--nogilrace-keep-traces", metavar="DIR", default=None,
                help="write the traces to DIR and keep them (default: a temporary directory)")


def _tracer():
    """The `_nogilrace` module when this process is traced, else None."""
    try:
        import _nogilrace
    except ImportError:
        return None
    return _nogilrace if _nogilrace.tracing() else None


def _bad_report_options(values):
    for v in values:
        fmt, sep, path = v.partition(":")
        if not sep or fmt not in FORMATS or not path:
            return "--nogilrace-report=%s: expected FORMAT:PATH with FORMAT one of %s" % (v, ", ".join(FORMATS))
    return None


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest captures output or loads conftests: run traced, re-executing if need be."""
    ns = early_config.known_args_namespace
    if getattr(ns, "nogilrace", False) and not hasattr(early_config, "workerinput"):
        problem = _bad_report_options(getattr(ns, "nogilrace_report", []) or [])
        if problem:
            raise pytest.UsageError(problem)
        if _tracer() is None:
            if os.environ.get(ENV_OWNED):
                if os.environ.get(ENV_KEEP) == "0":
                    _remove_traces(os.environ[ENV_OWNED])
                why = ("NOGILRACE_HOOKS=0 turns the tracer's CPython hooks off" if
                       os.environ.get("NOGILRACE_HOOKS", "").startswith("0") else
                       "the line starting with `nogilrace:` above says why; `pip install nogilrace` into "
                       "this interpreter's environment builds the tracer for it")
                raise pytest.UsageError("--nogilrace: pytest was restarted under the tracer, but this Python "
                                        "is not traced (%s)" % why)
            _reexec(ns)
    yield


def _reexec(ns):
    import nogilrace
    lib = nogilrace.preload()
    if not os.path.exists(lib):
        raise pytest.UsageError("--nogilrace: %s is missing: reinstall the nogilrace package" % lib)
    keep = getattr(ns, "nogilrace_keep_traces", None)
    if keep:
        os.makedirs(keep, exist_ok=True)
        trace_dir = os.path.abspath(keep)
    else:
        trace_dir = tempfile.mkdtemp(prefix="nogilrace-pytest-")
    env = dict(os.environ)
    old = env.get("LD_PRELOAD")
    env["LD_PRELOAD"] = lib + (":" + old if old else "")
    env["NOGILRACE_TRACE_DIR"] = trace_dir
    env[ENV_OWNED] = trace_dir
    env[ENV_KEEP] = "1" if keep else "0"
    argv = [sys.executable] + list(getattr(sys, "orig_argv", sys.argv)[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def _remove_traces(d):
    """The session's temporary trace directory: its traces, then itself if nothing else is there."""
    for fn in os.listdir(d):
        if fn.endswith(".ngrtrace"):
            os.unlink(os.path.join(d, fn))
    try:
        os.rmdir(d)
    except OSError:
        pass  # something else was left there: not ours to delete


def pytest_configure(config):
    if config.getoption("nogilrace"):
        config.pluginmanager.register(_NogilracePlugin(config), "nogilrace-session")


class _NogilracePlugin:
    def __init__(self, config):
        self.config = config
        self.tracer = _tracer()
        self.worker = hasattr(config, "workerinput")  # a pytest-xdist worker: mark only
        self.trace_dir = os.environ.get(ENV_OWNED) if not self.worker else None
        self.result = None    # the JSON report, once analysed
        self.problem = None   # why there is no report
        self.stderr = []      # the analyzer's own lines worth showing

    # ---- marks -----------------------------------------------------------------------------

    def _phase(self, item, phase):
        tracer = self.tracer
        if tracer is None:
            yield
            return
        tracer.mark(item.nodeid, PHASES[phase], True)
        try:
            yield
        finally:
            tracer.mark(item.nodeid, PHASES[phase], False)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item):
        yield from self._phase(item, "setup")

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item):
        yield from self._phase(item, "call")

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item):
        yield from self._phase(item, "teardown")

    def pytest_report_header(self, config):
        if self.worker:
            return None
        if self.trace_dir:
            return "nogilrace: tracing, traces in %s" % self.trace_dir
        if self.tracer is not None:
            return "nogilrace: tracing under `nogilrace run`, which reports when the command ends"
        return None

    # ---- the analysis ------------------------------------------------------------------------

    # A wrapper, innermost: after every plain implementation (pytest-xdist's, which ends its
    # workers, so their traces are complete), before the terminal reporter's summary.
    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        yield
        if self.worker or not self.trace_dir:
            return
        self._analyse()
        summary = (self.result or {}).get("summary", {})
        # as `nogilrace report` decides its status: new races, a process that ran untraced (its
        # races could not be seen), tracing that stopped early (events are missing)
        failing = (self.problem is not None or summary.get("new", summary.get("races", 0)) > 0 or
                   summary.get("untraced", 0) > 0 or summary.get("stopped_early", 0) > 0)
        if failing and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        new = [r for r in (self.result or {}).get("races", []) if not r.get("in_baseline")]
        if new:
            tr = self.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:  # the summary line: "5 passed, 2 racy in 3.1s"
                tr.stats.setdefault("racy", []).extend(new)

    def _report_args(self, rules_path):
        args = ["--suppressions", rules_path]
        if self.config.getoption("nogilrace_baseline"):
            args += ["--baseline", self.config.getoption("nogilrace_baseline")]
        return args

    def _rules_file(self):
        """The runner's rules and the user's, in one file for --suppressions."""
        text = RUNNER_RULES
        user = self.config.getoption("nogilrace_suppressions")
        if user:
            with open(user, encoding="utf-8", errors="surrogateescape") as f:
                text += f.read() + "\n"
        with tempfile.NamedTemporaryFile("w", suffix=".supp", delete=False, encoding="utf-8",
                                         errors="surrogateescape") as f:
            f.write(text)
        return f.name

    def _run_analyzer(self, args, stdout):
        import nogilrace
        env = {k: v for k, v in os.environ.items()
               if k not in ("LD_PRELOAD", "NOGILRACE_TRACE_DIR", ENV_OWNED, ENV_KEEP)}
        return subprocess.run([nogilrace.analyzer(), "report"] + args, stdout=stdout,
                              stderr=subprocess.PIPE, text=True, env=env)

    def _analyse(self):
        """Every trace of the directory, this live process's own included: it is read up to its
        last record (everything the tests did), and its being unfinished is no news."""
        own = "nogilrace-%d-" % os.getpid()
        with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False) as out:
            json_path = out.name
        rules = None
        try:
            rules = self._rules_file()
            with open(json_path, "w") as out:
                r = self._run_analyzer(["--format=json"] + self._report_args(rules) + [self.trace_dir], out)
            for line in r.stderr.splitlines():
                if own in line and "did not finish" in line:
                    continue
                self.stderr.append(line)
            if r.returncode not in (0, 66, 67, 68):
                self.problem = "nogilrace report failed (exit %d)" % r.returncode
                return
            with open(json_path) as f:
                self.result = json.load(f)
            self.result["warnings"] = [w for w in self.result.get("warnings", [])
                                       if not (own in w and "did not finish" in w)]
            with open(json_path, "w") as f:
                json.dump(self.result, f, indent=2)
                f.write("\n")
            self._write_reports(json_path, rules)
        except (OSError, ValueError) as e:
            self.problem = "nogilrace report: %s" % e
        finally:
            os.unlink(json_path)
            if rules:
                os.unlink(rules)
            if os.environ.get(ENV_KEEP) == "0":
                _remove_traces(self.trace_dir)

    def _write_reports(self, json_path, rules):
        for spec in self.config.getoption("nogilrace_report"):
            fmt, _, path = spec.partition(":")
            if fmt == "json":
                shutil.copyfile(json_path, path)
                continue
            with open(path, "w") as out:  # the other formats from the JSON report: no second analysis
                r = self._run_analyzer(["--format=" + fmt] + self._report_args(rules) + [json_path], out)
            if r.returncode not in (0, 66, 67, 68):
                self.stderr += r.stderr.splitlines()
                self.problem = "nogilrace report --format=%s failed (exit %d)" % (fmt, r.returncode)

    # ---- the summary ------------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        if self.worker or not self.trace_dir:
            return
        tr = terminalreporter
        for line in self.stderr:
            tr.write_line(line)
        if self.problem:
            tr.write_sep("=", "nogilrace: no report", red=True)
            tr.write_line(self.problem)
            return
        rep = self.result or {}
        races = rep.get("races", [])
        new = [r for r in races if not r.get("in_baseline")]
        known = [r for r in races if r.get("in_baseline")]
        s = rep.get("summary", {})
        blind = s.get("untraced") or s.get("stopped_early")
        if new:
            tr.write_sep("=", "nogilrace: %d race%s" % (len(new), "" if len(new) == 1 else "s"), red=True)
            for r in new:
                self._write_race(tr, r)
        elif blind:
            tr.write_sep("=", "nogilrace: no races seen, but not everything was traced", red=True)
        else:
            tr.write_sep("=", "nogilrace: no new races" if known else "nogilrace: no races", green=True)
        if known:
            tr.write_line("known (in the baseline %s): %s" % (
                rep.get("baseline"), ", ".join("%s %s [%s]" % (r["kind"], r["variable"], r["id"]) for r in known)))
        if s.get("untraced"):
            tr.write_line("%d Python process(es) ran untraced: their races cannot be reported" % s["untraced"],
                          red=True)
        if s.get("stopped_early"):
            tr.write_line("tracing stopped early in %d process(es): events are missing (the warnings above say why)"
                          % s["stopped_early"], red=True)
        tr.write_line("%d process%s, %d events analysed%s" % (
            rep.get("processes", 0), "" if rep.get("processes") == 1 else "es", rep.get("events", 0),
            "; traces kept in " + self.trace_dir if os.environ.get(ENV_KEEP) == "1" else ""))

    def _write_race(self, tr, r):
        tr.write_line("%s on %s (%s, seen %d time%s)  [%s]" % (
            r["kind"], r["variable"], "observed" if r.get("observed") else "potential", r.get("count", 1),
            "" if r.get("count", 1) == 1 else "s", r["id"]), bold=True)
        tests = r.get("tests") or []
        if tests:
            more = r.get("tests_more", 0)
            tr.write_line("  in test%s: %s%s" % ("" if len(tests) + more == 1 else "s", ", ".join(tests),
                                                  ", and %d more" % more if more else ""))
        else:
            tr.write_line("  in no test (outside every test's setup, call and teardown)")
        for label, a in zip(("", "and "), r.get("accesses", [])):
            frame = (a.get("stack") or [{}])[0]
            where = "%s:%s in %s" % (self._rel(frame.get("file", "?")), frame.get("line", 0),
                                     frame.get("function", "?")) if frame else "(no Python stack)"
            locks = ", ".join(a.get("locks") or []) or "no lock"
            tr.write_line("  %s%s by thread %s at %s, holding %s" % (label, a.get("op"), a.get("thread_name"),
                                                                   where, locks))
        if r.get("hint"):
            tr.write_line("  fix: " + r["hint"])

    def _rel(self, path):
        try:
            rel = os.path.relpath(path, str(self.config.rootpath))
            return path if rel.startswith("..") else rel
        except ValueError:
            return path
