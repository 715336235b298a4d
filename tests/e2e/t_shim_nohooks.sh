#!/usr/bin/env bash
# t_shim_nohooks.sh — a Python process whose CPython hooks are missing or broken still leaves a
# trace that says so: the PROCESS record carries NO_HOOKS and a warning NOTE repeats the one
# stderr line (naming the interpreter tag and the reason); nothing else is recorded, and the
# program's output and exit status are unchanged.  Three ways to lose the hooks, on the
# free-threaded and the GIL build: the library is absent, dlopen() fails (an undefined symbol),
# its ngr_hooks_init() fails.  NOGILRACE_HOOKS=0 (pthread events only, by choice) is not marked.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$NGR_TMP" || exit 1

cat >app.py <<'EOF'
import sys, threading
n = 0
def work():
    global n
    n += 1
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("n", n)
sys.exit(4)
EOF

# Fake hooks libraries: one that cannot be loaded, one whose init fails.
cat >undef.c <<'EOF'
extern int ngr_test_no_such_symbol(void);
__attribute__((visibility("default"))) int ngr_hooks_init(void) { return ngr_test_no_such_symbol(); }
EOF
cat >initfail.c <<'EOF'
__attribute__((visibility("default"))) int ngr_hooks_init(void) { return -3; }
EOF

tags() { "$1" -c "import sys; print('cp%d%d%s' % (sys.version_info[0], sys.version_info[1], sys.abiflags))"; }

# check NAME PY DIR WANT_REASON: run app.py with $DIR/libnogilrace.so, expect a NO_HOOKS trace.
check() {
    local name=$1 py=$2 dir=$3 reason=$4 tag
    tag=$(tags "$py")
    rm -rf "tr.$name" && mkdir "tr.$name"
    LD_PRELOAD="$dir/libnogilrace.so" NOGILRACE_TRACE_DIR="$PWD/tr.$name" "$py" app.py >out 2>err
    local rc=$?
    [ "$rc" = 4 ] && [ "$(cat out)" = "n 4" ] || fail "[$name] exit $rc, output $(cat out), $(cat err)"
    [ "$(wc -l <err)" = 1 ] || fail "[$name] want one stderr line, got: $(cat err)"
    grep -q "^nogilrace: .*($tag).*$reason.*running untraced$" err || fail "[$name] stderr: $(cat err)"
    local n
    n=$(ls "tr.$name" | wc -l)
    [ "$n" = 1 ] || fail "[$name] want one trace, got $n: $(ls "tr.$name")"
    "$NGR_ANALYZER" dump --json "tr.$name" >dump.json 2>dump.err || fail "[$name] dump: $(cat dump.err)"
    "$NGR_PYTHON" - "$name" "$(sed 's/^nogilrace: //' err)" <<'EOF' || fail "[$name] trace content"
import json, sys
name, line = sys.argv[1], sys.argv[2]
recs = [json.loads(l) for l in open("dump.json") if l.strip()]
procs = [r for r in recs if r["type"] == "process"]
notes = [r for r in recs if r["type"] == "note"]
# A failed init ran after thread 1 began: its begin and end are there too.
allowed = ("header", "process", "note", "end") + (("thread",) if "initfail" in name else ())
others = [r["type"] for r in recs if r["type"] not in allowed]
hdr = [r for r in recs if r["type"] == "header"][0]
assert len(procs) == 1 and procs[0].get("no_hooks") is True, procs
assert [(n["kind"], n["message"]) for n in notes] == [("warning", line)], notes
assert not others, "recorded more than the process and the note: %s" % others[:5]
assert hdr["finished"], hdr
print("ok: [%s] NO_HOOKS and the note: %s" % (name, line))
EOF
}

for label in ft gil; do
    py=$NGR_PYTHON
    [ "$label" = gil ] && py=$NGR_GIL_PYTHON
    tag=$(tags "$py")

    # absent: libnogilrace.so alone in its directory
    mkdir -p "lone" && cp "$NGR_PRELOAD" lone/
    check "$label-absent" "$py" "$PWD/lone" "nogilrace-$tag.so is missing"

    # dlopen fails: an undefined symbol
    mkdir -p "undef-$label" && cp "$NGR_PRELOAD" "undef-$label/"
    gcc -shared -fPIC -o "undef-$label/nogilrace-$tag.so" undef.c || fail "cannot build undef.so"
    check "$label-undef" "$py" "$PWD/undef-$label" "undefined symbol: ngr_test_no_such_symbol"

    # ngr_hooks_init fails
    mkdir -p "initfail-$label" && cp "$NGR_PRELOAD" "initfail-$label/"
    gcc -shared -fPIC -o "initfail-$label/nogilrace-$tag.so" initfail.c || fail "cannot build initfail.so"
    check "$label-initfail" "$py" "$PWD/initfail-$label" "failed to initialise (-3)"

    # NOGILRACE_HOOKS=0: pthread events only, by choice: no mark, no note, no stderr
    rm -rf tr.off && mkdir tr.off
    NOGILRACE_HOOKS=0 LD_PRELOAD="$PWD/lone/libnogilrace.so" NOGILRACE_TRACE_DIR="$PWD/tr.off" \
        "$py" app.py >out 2>err
    [ "$?" = 4 ] && [ ! -s err ] || fail "[$label HOOKS=0] exit/stderr: $(cat err)"
    "$NGR_ANALYZER" dump --json tr.off >dump.json || fail "[$label HOOKS=0] dump"
    grep -q '"no_hooks":true' dump.json && fail "[$label HOOKS=0] marked NO_HOOKS"
    grep -q '"type":"note"' dump.json && fail "[$label HOOKS=0] has a note: $(grep note dump.json)"
    grep -q '"type":"process"' dump.json || fail "[$label HOOKS=0] no process record"
    echo "ok: [$label] NOGILRACE_HOOKS=0 is not marked"
done
echo "nohooks: ok"
