"""t_shim_activation.py — the shim wakes up in Python before the user's code, in every launch
mode, loads the hooks library matching the interpreter, records the process and its GIL state.
Without working hooks (the library absent, not loadable, or its init failing) it says so in one
line, leaves the program alone, and still writes a trace whose PROCESS carries NO_HOOKS and whose
warning NOTE repeats that line, so that `nogilrace run` cannot take the process for a clean one;
NOGILRACE_HOOKS=0 (pthread events only, by choice) is not marked.
Run once per interpreter (interp.py); on a free-threaded build also with PYTHON_GIL=1."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402
import interp  # noqa: E402

PY = interp.PYTHON
TAG = interp.tag()
FT = interp.free_threaded()
TMP = os.environ["NGR_TMP"]
ROOT = os.environ["NGR_ROOT"]


def fresh(name):
    d = os.path.join(TMP, name)
    os.makedirs(d)
    return d


def run(cmd, env, stdin=None, cwd=None):
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, cwd=cwd,
                          timeout=120)


# The first line of user code looks for the trace: it exists only if activation came first.
PROBE = ("import glob, os, sys\n"
         "n = len(glob.glob(os.path.join(os.environ['NOGILRACE_TRACE_DIR'], '*.ngrtrace')))\n"
         "marker = os.environ.get('NGR_TEST_MARKER')\n"
         "m = os.path.exists(marker) if marker else None\n"
         "print('traces-before-user-code', n, 'hooks-before-user-code', m)\n"
         "sys.exit(4)\n")

# ---- 1. every launch mode, pthread-only (no hooks library involved) -------------------------
app = os.path.join(TMP, "app.py")
with open(app, "w") as f:
    f.write(PROBE)
os.makedirs(os.path.join(TMP, "pkg"))
with open(os.path.join(TMP, "pkg", "probe_mod.py"), "w") as f:
    f.write(PROBE)
modes = {
    "file": ([PY, app], None),
    "module": ([PY, "-m", "probe_mod"], None),
    "command": ([PY, "-c", PROBE], None),
    "stdin": ([PY], PROBE),
    "stdin-dash": ([PY, "-"], PROBE),
}
for mode, (cmd, stdin) in modes.items():
    d = fresh("mode-" + mode)
    env = env_for(d, NOGILRACE_HOOKS=0, PYTHONPATH=os.path.join(TMP, "pkg"))
    r = run(cmd, env, stdin)
    check(r.returncode == 4, "%s: exit %d, stderr %r" % (mode, r.returncode, r.stderr))
    check(r.stdout.startswith("traces-before-user-code 1"), "%s: %r" % (mode, r.stdout))
    check(r.stderr == "", "%s: unexpected stderr %r" % (mode, r.stderr))
    ts = traces_in(d)
    check(len(ts) == 1, "%s: traces %s" % (mode, ts))
    t = read_trace(ts[0])
    check(t.finished, "%s: trace not finished" % mode)
    p = t.process()
    check(p is not None and p["free_threaded"] == FT and p["gil_enabled"] == (not FT),
          "%s: process record %s" % (mode, p))
    check(p["version"] and p["version"].startswith(interp.version() + "."), "%s: version %r" % (mode, p))
    check(not p["no_hooks"] and t.notes() == [], "%s: NOGILRACE_HOOKS=0 marked: %s %s" % (mode, p, t.notes()))
    print("ok: activation before user code,", mode)

# ---- 2. a hooks library is picked by the interpreter's tag and initialised before user code --
lib = fresh("lib")
shutil.copy(os.environ["NGR_PRELOAD"], os.path.join(lib, "libnogilrace.so"))
hooks_src = os.path.join(lib, "hooks.c")
with open(hooks_src, "w") as f:
    f.write(r'''
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ngr_api.h"
NGR_API int ngr_hooks_init(void)
{
    const char *m = getenv("NGR_TEST_MARKER");
    if (m) { int fd = open(m, O_CREAT | O_WRONLY, 0600); if (fd >= 0) close(fd); }
    ngr_note(2, "test hooks initialised for " TAG);
    const char *rc = getenv("NGR_TEST_INIT_RC");
    return rc ? atoi(rc) : 0;
}
''')
subprocess.run(["gcc", "-shared", "-fPIC", "-DTAG=\"%s\"" % TAG, "-I", os.path.join(ROOT, "preload"),
                "-o", os.path.join(lib, "nogilrace-%s.so" % TAG), hooks_src], check=True)

# (environment, GIL on): a free-threaded build starts without it, or with it when told to.
cases = [({}, False), ({"PYTHON_GIL": "1"}, True)] if FT else [({}, True)]
for extra, gil in cases:
    py, tag = PY, TAG
    d = fresh("hooks-%s-%s" % (tag, gil))
    marker = os.path.join(d, "marker")
    env = env_for(d, NGR_TEST_MARKER=marker, **extra)
    env["LD_PRELOAD"] = os.path.join(lib, "libnogilrace.so")
    r = run([py, "-c", PROBE], env)
    check(r.returncode == 4 and r.stderr == "", "%s: %d %r" % (tag, r.returncode, r.stderr))
    check("hooks-before-user-code True" in r.stdout, "%s: hooks not initialised first: %r" % (tag, r.stdout))
    ts = traces_in(d)
    check(len(ts) == 1, "%s: traces %s" % (tag, ts))
    t = read_trace(ts[0])
    check("test hooks initialised for " + tag in t.notes(), "%s: notes %s" % (tag, t.notes()))
    p = t.process()
    check(p["gil_enabled"] == gil and p["free_threaded"] == FT,
          "%s %s: process %s" % (tag, extra, p))
    print("ok: %s hooks loaded, gil_enabled=%s recorded" % (tag, gil))

def untraced_trace(what, d, line, tag):
    """The one trace of a process that ran without hooks: NO_HOOKS, the stderr line as a warning
    NOTE (naming the interpreter tag), finished; as the independent reader and `nogilrace dump
    --json` see it."""
    check(line.startswith("nogilrace: ") and "(%s)" % tag in line and line.endswith("running untraced"),
          "%s: stderr line %r" % (what, line))
    ts = traces_in(d)
    check(len(ts) == 1 and os.listdir(d) == [os.path.basename(ts[0])], "%s: files %s" % (what, os.listdir(d)))
    t = read_trace(ts[0])
    check(t.finished and t.process() and t.process()["no_hooks"], "%s: process %s" % (what, t.process()))
    msg = line[len("nogilrace: "):]
    check(t.notes()[-1:] == [msg], "%s: notes %s" % (what, t.notes()))  # (the fake init notes too)
    dump = subprocess.run([os.environ["NGR_ANALYZER"], "dump", "--json", ts[0]], capture_output=True,
                          text=True, timeout=120)
    recs = [json.loads(x) for x in dump.stdout.splitlines() if x.strip()]
    check(dump.returncode == 0 and [r.get("no_hooks") for r in recs if r["type"] == "process"] == [True],
          "%s: dump --json process %s %s" % (what, dump.stdout[-800:], dump.stderr))
    check([r["message"] for r in recs if r["type"] == "note" and r["kind"] == "warning"] == [msg],
          "%s: dump --json notes %s" % (what, dump.stdout[-800:]))
    return t


# ---- 3. hooks init failure: one line, a NO_HOOKS trace, nothing recorded after -----------------
for py, tag in ((PY, TAG),):
    d = fresh("init-fails-" + tag)
    env = env_for(d, NGR_TEST_INIT_RC=3)
    env["LD_PRELOAD"] = os.path.join(lib, "libnogilrace.so")
    r = run([py, "-c", "print('still runs'); import sys; sys.exit(5)"], env)
    check(r.returncode == 5 and r.stdout == "still runs\n", "init failure: %d %r" % (r.returncode, r.stdout))
    lines = r.stderr.splitlines()
    check(len(lines) == 1 and "failed to initialise (3)" in lines[0], "init failure message: %r" % r.stderr)
    t = untraced_trace("init failure " + tag, d, lines[0], tag)
    # Before the failed init: thread 1's begin (and its end at exit); nothing of the program's.
    check(not t.of("access") and not t.sync_events(), "init failure %s: events recorded" % tag)
    print("ok: hooks init failure,", tag)

# ---- 4. no hooks library for this interpreter, or one that cannot be loaded --------------------
lone = fresh("lone")
shutil.copy(os.environ["NGR_PRELOAD"], os.path.join(lone, "libnogilrace.so"))
undef = fresh("undef")
shutil.copy(os.environ["NGR_PRELOAD"], os.path.join(undef, "libnogilrace.so"))
with open(os.path.join(undef, "undef.c"), "w") as f:
    f.write("extern int ngr_test_no_such_symbol(void);\n"
            "__attribute__((visibility(\"default\"))) int ngr_hooks_init(void)"
            " { return ngr_test_no_such_symbol(); }\n")
prog = "import threading; t = threading.Thread(target=print, args=('thread',)); t.start(); t.join(); print('done'); raise SystemExit(6)"
base = run([PY, "-c", prog], dict(os.environ))
for py, tag in ((PY, TAG),):
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", os.path.join(undef, "nogilrace-%s.so" % tag),
                    os.path.join(undef, "undef.c")], check=True)
    for how, libdir, says in (("missing", lone, "nogilrace-%s.so is missing" % tag),
                              ("unloadable", undef, "undefined symbol: ngr_test_no_such_symbol")):
        d = fresh("%s-%s" % (how, tag))
        env = env_for(d)
        env["LD_PRELOAD"] = os.path.join(libdir, "libnogilrace.so")
        r = run([py, "-c", prog], env)
        check(r.returncode == 6 and r.stdout == base.stdout, "%s %s: %d %r" % (how, tag, r.returncode, r.stdout))
        lines = r.stderr.splitlines()
        check(len(lines) == 1, "%s %s: stderr %r" % (how, tag, r.stderr))
        check(says in lines[0] and "make PYTHON=%s" % py in lines[0],
              "%s %s: message names the reason and the make command: %r" % (how, tag, lines[0]))
        t = untraced_trace("%s %s" % (how, tag), d, lines[0], tag)
        check(not t.thread_events() and not t.sync_events(), "%s %s: events recorded" % (how, tag))
        print("ok: %s hooks library for %s" % (how, tag))

# ---- 5. the real hooks library, when this build has one ---------------------------------------
real = os.path.join(os.environ["NGR_BUILD"], "nogilrace-%s.so" % TAG)
nm = subprocess.run(["nm", "-D", "--defined-only", real], capture_output=True, text=True)
if "ngr_hooks_init" in nm.stdout:
    d = fresh("real")
    r = run([PY, "-c", PROBE], env_for(d))
    check(r.returncode == 4, "real hooks: exit %d %r" % (r.returncode, r.stderr))
    check(r.stdout.startswith("traces-before-user-code 1"), "real hooks: %r" % r.stdout)
    ts = traces_in(d)
    check(len(ts) == 1 and read_trace(ts[0]).process() is not None, "real hooks trace")
    print("ok: real hooks library")
else:
    print("note: %s has no ngr_hooks_init yet; real hooks not exercised" % real)
print("activation: ok")
