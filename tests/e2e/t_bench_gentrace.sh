#!/usr/bin/env bash
# t_bench_gentrace — bench/gentrace writes the synthetic trace make bench times the analyzer on;
# it must be a valid trace whose only findings are the racy read-modify-writes it plants:
#   * report --format=json exits 66 with findings, every one a lost-update on an app.modN.racy*
#     variable (none on the lock-protected "shared" or thread-private "local" ones);
#   * dump --json shows exactly the access/sync/thread records gentrace says it wrote, and the
#     END record counts every record.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cc -std=c11 -O2 -Wall -Wextra -Werror -I"$NGR_ROOT/common" -o gentrace \
    "$NGR_ROOT/bench/gentrace.c" "$NGR_ROOT/common/crc32c.c" || fail "gentrace does not build"
out=$(./gentrace --events 300000 --seed 11 -o g.ngrtrace) || fail "gentrace exit $?"
echo "$out"
events=$(echo "$out" | sed -n 's/.*: \([0-9]*\) events, \([0-9]*\) records.*/\1/p')
records=$(echo "$out" | sed -n 's/.*: \([0-9]*\) events, \([0-9]*\) records.*/\2/p')
[ -n "$events" ] && [ -n "$records" ] || fail "no counts in gentrace output"

"$NGR_ANALYZER" report --format=json g.ngrtrace >report.json 2>report.err
rc=$?
[ "$rc" = 66 ] || { cat report.err; fail "report exit $rc, want 66 (races found)"; }
"$NGR_ANALYZER" dump --json g.ngrtrace >dump.jsonl 2>dump.err || fail "dump exit $?: $(tail -1 dump.err)"

"$NGR_PYTHON" - "$events" "$records" <<'PY' || exit 1
import collections, json, re, sys
events, records = int(sys.argv[1]), int(sys.argv[2])
doc = json.load(open("report.json"))
races = doc["races"]
bad = []
if not races:
    bad.append("no findings")
if doc["summary"]["races"] != len(races):
    bad.append(f"summary.races {doc['summary']['races']} != {len(races)} listed")
for r in races:
    if not re.fullmatch(r"app\.mod\d+\.(Registry\.|CONFIG\.)?racy(_count|_cache)?\d+", r["variable"]) or r["kind"] != "lost-update":
        bad.append(f"{r['kind']} on {r['variable']}")
kinds = collections.Counter(json.loads(l)["type"] for l in open("dump.jsonl"))
end = [json.loads(l) for l in open("dump.jsonl") if '"type":"end"' in l.replace(" ", "")]
seen = kinds["access"] + kinds["sync"] + kinds["thread"]
if seen != events:
    bad.append(f"dump shows {seen} access/sync/thread records, gentrace wrote {events}")
if not end or end[0]["events"] != records:
    bad.append(f"END record {end[0]['events'] if end else None}, gentrace wrote {records} records")
print(f"{len(races)} findings; dump: {dict(kinds)}")
if bad:
    print("FAIL: " + "; ".join(bad[:10]) + (f" (+{len(bad) - 10} more)" if len(bad) > 10 else ""))
    sys.exit(1)
PY
echo PASS
