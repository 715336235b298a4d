"""t_shim_options.py — the environment options as the hooks library sees them (ngr_options,
ngr_module_wanted), and NOGILRACE_DEBUG's diagnostics."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_shim_reader import check, env_for, read_trace, traces_in  # noqa: E402
import interp  # noqa: E402

PY = os.environ["NGR_PYTHON"]
TMP = os.environ["NGR_TMP"]
ROOT = os.environ["NGR_ROOT"]

# A hooks library that reports what it was told, as NOTE records.
lib = os.path.join(TMP, "lib")
os.makedirs(lib)
shutil.copy(os.environ["NGR_PRELOAD"], os.path.join(lib, "libnogilrace.so"))
src = os.path.join(lib, "hooks.c")
with open(src, "w") as f:
    f.write(r'''
#include <stdio.h>
#include "ngr_api.h"
NGR_API int ngr_hooks_init(void)
{
    const struct ngr_options *o = ngr_options();
    char buf[512];
    snprintf(buf, sizeof buf, "depth=%u native=%d debug=%d", o->stack_depth, (int)o->native_stacks, o->debug);
    ngr_note(2, buf);
    const char *mods[] = {"app", "app.sub", "apple", "json", "json.decoder", "threading", NULL};
    for (int i = 0; mods[i]; i++) {
        snprintf(buf, sizeof buf, "wanted %s=%d", mods[i], (int)ngr_module_wanted(mods[i]));
        ngr_note(2, buf);
    }
    return 0;
}
''')
subprocess.run(["gcc", "-shared", "-fPIC", "-I", os.path.join(ROOT, "preload"), "-o",
                os.path.join(lib, "nogilrace-%s.so" % interp.tag()), src], check=True)


def run(name, **opts):
    d = os.path.join(TMP, name)
    os.makedirs(d)
    env = env_for(d, **opts)
    env["LD_PRELOAD"] = os.path.join(lib, "libnogilrace.so")
    r = subprocess.run([PY, "-c", "print('hi')"], env=env, capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout == "hi\n", "%s: %r" % (name, r.stderr))
    notes = read_trace(traces_in(d)[0]).notes()
    wanted = {n.split()[1].split("=")[0]: n.endswith("=1") for n in notes if n.startswith("wanted ")}
    head = [n for n in notes if n.startswith("depth=")][0]
    return r, head, wanted


r, head, wanted = run("defaults")
check(head == "depth=8 native=0 debug=0", "defaults: %s" % head)
check(all(wanted.values()), "everything wanted by default: %s" % wanted)
check(r.stderr == "", "quiet by default: %r" % r.stderr)
print("ok: defaults")

r, head, wanted = run("set", NOGILRACE_STACK_DEPTH=3, NOGILRACE_DEBUG=1, NOGILRACE_INCLUDE="app,json",
                      NOGILRACE_EXCLUDE="json.*")
check(head == "depth=3 native=0 debug=1", "set: %s" % head)
check(wanted == {"app": True, "app.sub": True, "apple": False, "json": True, "json.decoder": False,
                 "threading": False}, "include/exclude: %s" % wanted)
lines = r.stderr.splitlines()
check(lines and all(l.startswith("nogilrace: ") for l in lines) and any("tracing to" in l for l in lines),
      "debug diagnostics: %r" % r.stderr)
print("ok: depth, debug, include/exclude")

r, head, wanted = run("exclude-only", NOGILRACE_EXCLUDE="thread*", NOGILRACE_STACK_DEPTH="lots")
check(head.startswith("depth=8"), "a bad depth keeps the default: %s" % head)
check(r.stderr.count("\n") == 1 and "NOGILRACE_STACK_DEPTH=lots ignored" in r.stderr, "bad depth warning: %r" % r.stderr)
check(wanted["threading"] is False and wanted["app"] is True, "exclude only: %s" % wanted)
print("options: ok")
