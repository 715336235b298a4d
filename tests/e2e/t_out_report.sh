#!/usr/bin/env bash
# t_out_report — the report formats and suppressions on a real traced program:
#   * --format=json parses and holds the documented fields (docs/json-schema.md) with real values;
#   * --suppressions: each rule type removes its finding and the summary counts it; everything
#     suppressed → exit 0; a bad line → one "FILE:LINE: ..." error and exit 2; a missing file → 2;
#   * `# nogilrace: ignore` on an access's source line suppresses without any file, and
#     `ignore[other-kind]` does not.
set -u
fail() { echo "FAIL: $*"; exit 1; }
report() { "$NGR_ANALYZER" report "$@"; }

cat >racy.py <<'PY'
import threading
counter = 0
hits = 0
def work():
    global counter, hits
    for _ in range(300):
        counter += 1
        hits += 1  # nogilrace: ignore[check-then-act]
ts = [threading.Thread(target=work, name=f"worker-{n}") for n in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
mkdir -p traces
NOGILRACE_TRACE_DIR=traces LD_PRELOAD=$NGR_PRELOAD "$NGR_PYTHON" racy.py || fail "traced program failed"

# ---- JSON ----------------------------------------------------------------------------------------
report --format=json traces >out.json 2>err.txt
rc=$?
[ "$rc" = 66 ] || { cat err.txt; fail "json: exit $rc, want 66"; }
"$NGR_PYTHON" - out.json "$PWD/racy.py" <<'PY' || { head -c 2000 out.json; fail "json document"; }
import json, os, sys
d = json.load(open(sys.argv[1]))
src = sys.argv[2]
for k, t in [("version", int), ("python", str), ("gil_enabled", bool), ("free_threaded", bool),
             ("gil_enabled_by", list), ("processes", int), ("events", int), ("warnings", list),
             ("traces", list), ("summary", dict), ("races", list), ("tool", dict)]:
    assert isinstance(d[k], t), (k, d.get(k))
assert d["version"] >= 1 and d["processes"] == 1 and d["events"] > 0
ft = os.environ.get("NGR_PY_FREE_THREADED", "1") == "1"
assert d["free_threaded"] is ft and ("free-threading" in d["python"]) is ft, d["python"]
assert d["gil_enabled"] is (not ft), d["gil_enabled"]
assert d["summary"]["races"] == len(d["races"]) >= 2, d["summary"]
names = {r["variable"] for r in d["races"]}
assert {"racy.counter", "racy.hits"} <= names, names
for r in d["races"]:
    assert r["id"].startswith("NGR-") and len(r["id"]) == 16, r["id"]
    assert r["kind"] in ("lost-update", "check-then-act", "iteration-during-mutation", "unprotected-write")
    assert r["severity"] == ("error" if r["observed"] else "warning")
    assert r["count"] >= 1 and len(r["accesses"]) == 2
    threads = set()
    for a in r["accesses"]:
        assert a["op"] in ("read", "write", "delete", "clear", "contains", "iter_begin", "iter_end"), a["op"]
        assert isinstance(a["locks"], list) and isinstance(a["native_stack"], list)
        assert a["thread_name"].startswith("worker-"), a["thread_name"]
        top = a["stack"][0]
        assert top["file"] == src and top["function"] == "work" and top["line"] in (7, 8), top
        threads.add(a["thread"])
    assert len(threads) == 2, "two different threads"
print("json ok:", sorted(names))
PY

# summary line of the text format: "N races found (...), M suppressed; ..."
count() { # count TEXT_REPORT → "races suppressed"
    sed -n 's/^nogilrace: \([0-9]*\) races\{0,1\} found.*/\1/p' "$1" | tail -n 1
}
suppressed() {
    local s
    s=$(sed -n 's/^nogilrace: .* found.*, \([0-9]*\) suppressed.*/\1/p' "$1" | tail -n 1)
    echo "${s:-0}"
}
report traces >plain.txt 2>&1
total=$(count plain.txt)
[ -n "$total" ] && [ "$total" -ge 2 ] || { cat plain.txt; fail "text summary: '$total' races"; }
# the ignore[check-then-act] comment on the hits line must not hide its lost update
[ "$(suppressed plain.txt)" = 0 ] || { tail -n 3 plain.txt; fail "a finding was suppressed by ignore[other kind]"; }

# ---- suppression files ---------------------------------------------------------------------------------
counter_id=$("$NGR_PYTHON" -c 'import json,sys; print(next(r["id"] for r in json.load(open("out.json"))["races"] if r["variable"] == "racy.counter"))')
n_counter=$("$NGR_PYTHON" -c 'import json; print(sum(r["variable"] == "racy.counter" for r in json.load(open("out.json"))["races"]))')
try_rules() { # try_rules DESCRIPTION WANT_SUPPRESSED RULE...
    local what=$1 want=$2; shift 2
    printf '%s\n' "# $what" "" "$@" >rules.supp
    report --suppressions rules.supp traces >sup.txt 2>&1
    local rc=$? got
    got=$(suppressed sup.txt)
    [ "$got" = "$want" ] || { tail -n 3 sup.txt; fail "$what: $got suppressed, want $want"; }
    [ "$(count sup.txt)" = $((total - want)) ] || { tail -n 3 sup.txt; fail "$what: remaining count"; }
    if [ "$want" = "$total" ]; then
        [ "$rc" = 0 ] || fail "$what: everything suppressed, exit $rc, want 0"
    else
        [ "$rc" = 66 ] || fail "$what: exit $rc, want 66"
    fi
    echo "ok: $what ($got suppressed)"
}
try_rules "race: by id" 1 "race:$counter_id"
try_rules "variable:" "$n_counter" "variable:racy.counter"
try_rules "variable: glob" "$total" "variable:racy.*"
try_rules "file: base name" "$total" "file:racy.py"
try_rules "file: no match" 0 "file:*/elsewhere/*"
try_rules "function:" "$total" "function:work"
try_rules "race: by kind, spaces" "$total" "  race : *  "

printf 'race:x\n\n# c\nvariables:racy.*\n' >bad.supp
report --suppressions bad.supp traces >bad.out 2>bad.err
rc=$?
[ "$rc" = 2 ] || fail "bad suppressions file: exit $rc, want 2"
[ "$(wc -l <bad.err)" = 1 ] && grep -q '^nogilrace: bad.supp:4: unknown rule type' bad.err || { cat bad.err; fail "bad line message"; }
[ ! -s bad.out ] || fail "no report on a bad suppressions file"
report --suppressions missing.supp traces >/dev/null 2>miss.err
[ $? = 2 ] && grep -q 'missing.supp' miss.err || { cat miss.err; fail "missing suppressions file"; }
echo "ok: bad and missing suppression files"

# ---- # nogilrace: ignore -----------------------------------------------------------------------------------
sed -i 's/counter += 1$/counter += 1  # nogilrace: ignore/' racy.py
printf '# nothing but a comment\n' >empty.supp
report --suppressions empty.supp traces >inline.txt 2>&1
[ "$(suppressed inline.txt)" = "$n_counter" ] || { tail -n 3 inline.txt; fail "# nogilrace: ignore with a rule file: $(suppressed inline.txt) suppressed, want $n_counter"; }
report traces >inline.txt 2>&1
[ "$(suppressed inline.txt)" = "$n_counter" ] || { tail -n 3 inline.txt; fail "# nogilrace: ignore on the counter line: $(suppressed inline.txt) suppressed, want $n_counter"; }
mv racy.py racy.moved
report traces >gone.txt 2>&1
[ "$(suppressed gone.txt)" = 0 ] && [ "$(count gone.txt)" = "$total" ] || fail "missing source: nothing suppressed, no error"
echo "ok: inline ignore comments"
