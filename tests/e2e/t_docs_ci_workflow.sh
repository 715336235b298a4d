#!/usr/bin/env bash
# t_docs_ci_workflow — the nightly GitHub Actions workflow in docs/ci.md (between the
# nogilrace-nightly-workflow markers) is one a user can save and run: valid YAML; a schedule; a
# matrix job running pytest --nogilrace that uploads its JSON report even when it fails; a job
# after it (also when a shard failed) that merges the reports with `nogilrace report --baseline
# --write-baseline --format=sarif` and uploads that very SARIF file to code scanning (with the
# permission it needs) and the updated baseline; every action pinned to a version; every `run`
# script valid shell; every option given to `nogilrace report` and every --nogilrace* option of
# pytest one that exists.
#
# PyYAML comes from the package index into a venv cached in ${XDG_CACHE_HOME:-~/.cache}/nogilrace/
# venv-yaml (system python3's yaml when that fails); skips (77) only when neither is there.
set -u
fail() { echo "FAIL: $*"; exit 1; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/nogilrace
venv=$cache/venv-yaml
py=$venv/bin/python
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9
if ! "$py" -c "import yaml" >/dev/null 2>&1; then
    rm -rf "$venv"
    { "$NGR_PYTHON" -m venv "$venv" && "$py" -m pip install -q --disable-pip-version-check pyyaml; } >venv.log 2>&1 ||
        { rm -rf "$venv"; py=python3; }
fi
flock -u 9
"$py" -c "import yaml" >/dev/null 2>&1 || { tail -n 5 venv.log; echo "skip: no PyYAML (pip failed; see above)"; exit 77; }

"$NGR_ANALYZER" report --help >report-help.txt 2>&1
"$py" - "$NGR_ROOT/docs/ci.md" report-help.txt "$NGR_ROOT/python/nogilrace/pytest_plugin.py" <<'PY' || fail "the workflow"
import re, subprocess, sys, yaml

doc, report_help, plugin = sys.argv[1:]
text = open(doc).read()
m = re.search(r"<!-- nogilrace-nightly-workflow:begin -->\n```yaml\n(.*?)```\n<!-- nogilrace-nightly-workflow:end -->",
              text, re.S)
assert m, "no workflow block between the markers"
wf = yaml.safe_load(m.group(1))
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)

on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
need(isinstance(on, dict) and "schedule" in on, "no schedule trigger")
for s in (on or {}).get("schedule", []):
    need(len(str(s.get("cron", "")).split()) == 5, "a cron entry without five fields: %r" % s)
jobs = wf.get("jobs") or {}
need(jobs, "no jobs")

def steps(job):
    return job.get("steps") or []

def runs(job):
    return [st["run"] for st in steps(job) if "run" in st]

for name, job in jobs.items():
    need("runs-on" in job, "%s: no runs-on" % name)
    for st in steps(job):
        if "uses" in st:
            need("@" in st["uses"], "%s: %s is not pinned to a version" % (name, st["uses"]))
        if "run" in st:
            script = re.sub(r"\$\{\{.*?\}\}", "X", st["run"])
            r = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            need(r.returncode == 0, "%s: a run script is not valid shell: %s" % (name, r.stderr.strip()))

shards = [n for n, j in jobs.items() if (j.get("strategy") or {}).get("matrix")]
need(shards, "no matrix job")
for name in shards:
    job = jobs[name]
    need(any("pytest" in r and "--nogilrace" in r for r in runs(job)), "%s: no pytest --nogilrace" % name)
    reports = [m.group(1) for r in runs(job) for m in [re.search(r"--nogilrace-report=json:(\S+)", r)] if m]
    need(reports, "%s: no --nogilrace-report=json:" % name)
    ups = [st for st in steps(job) if str(st.get("uses", "")).startswith("actions/upload-artifact@")]
    need(any(st.get("if") == "always()" and any(p in str(st.get("with", {}).get("path")) for p in reports)
             for st in ups), "%s: its JSON report is not uploaded when the job fails" % name)

merge = [n for n, j in jobs.items() if j.get("needs") and set(shards) & set(
    [j["needs"]] if isinstance(j["needs"], str) else j["needs"])]
need(merge, "no job after the shards")
plugin_opts = set(re.findall(r'"(--nogilrace[a-z-]*)"', open(plugin).read()))
help_text = open(report_help).read()
for name, job in jobs.items():
    for r in runs(job):
        for cmd in re.findall(r"nogilrace report((?:\\\n|[^\n])*)", r):
            for opt in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", cmd):
                need(opt in help_text, "%s: nogilrace report %s: no such option" % (name, opt))
        for opt in re.findall(r"(?<!\S)(--nogilrace[a-z-]*)", r):
            need(opt in plugin_opts, "%s: pytest %s: no such option" % (name, opt))
for name in merge:
    job = jobs[name]
    need(job.get("if") == "always()", "%s: does not run when a shard failed" % name)
    need((job.get("permissions") or {}).get("security-events") == "write",
         "%s: no security-events: write permission for the SARIF upload" % name)
    sarif = [m.group(1) for r in runs(job) for m in [re.search(r"nogilrace report[^>]*--format=sarif[^>]*>\s*(\S+)", r, re.S)]
             if m]
    need(sarif, "%s: no nogilrace report --format=sarif > FILE" % name)
    need(any("--baseline" in r and "--write-baseline" in r for r in runs(job)), "%s: no baseline in and out" % name)
    up = [st for st in steps(job) if str(st.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    need(up and up[0].get("if") == "always()" and up[0].get("with", {}).get("sarif_file") in sarif,
         "%s: the SARIF file is not uploaded to code scanning when the job fails" % name)
    need(any(str(st.get("uses", "")).startswith("actions/download-artifact@") for st in steps(job)),
         "%s: does not download the shards' reports" % name)
for p in problems:
    print("FAIL:", p)
print("workflow: %d jobs (%s), %d problems" % (len(jobs), ", ".join(jobs), len(problems)))
sys.exit(1 if problems else 0)
PY
echo ok
