#!/usr/bin/env bash
# t_shim_pymalloc.sh — every memory allocator CPython can be told to use works under the shim:
# PYTHONMALLOC=debug|malloc|malloc_debug|pymalloc|pymalloc_debug|mimalloc|mimalloc_debug,
# development mode (-X dev, PYTHONDEVMODE=1), tracemalloc on top of the debug hooks; with the
# interpreter under test (NGR_PYTHON; scripts/check runs it once per interpreter).  The program's output, stderr and exit status are the ones it
# has without the shim (a setting a build rejects is rejected the same way), and where it runs,
# its trace is finished and holds the race.
#
# Why: the shim's audit hook is registered before Py_Initialize, so CPython allocates its list
# entry with the default raw allocator; the debug allocator chosen at initialisation then freed it
# at finalisation and aborted the process ("bad ID: Allocated using API '!'", exit 134).
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$NGR_TMP" || exit 1

# Threads racing on race_counter.counter (a helper of the corpus).
export PYTHONPATH=$NGR_ROOT/tests/corpus/helpers
cat >app.py <<'EOF'
import race_counter
print("done", race_counter.main() > 0)
EOF

# settings: "ENV=VALUE ... -- PYTHON-OPTIONS"
settings=(
    "PYTHONMALLOC=debug --"
    "PYTHONMALLOC=malloc --"
    "PYTHONMALLOC=malloc_debug --"
    "PYTHONMALLOC=pymalloc --"
    "PYTHONMALLOC=pymalloc_debug --"
    "PYTHONMALLOC=mimalloc --"
    "PYTHONMALLOC=mimalloc_debug --"
    "PYTHONMALLOC=default --"
    "PYTHONDEVMODE=1 --"
    "-- -X dev"
    "PYTHONMALLOC=debug PYTHONTRACEMALLOC=5 --"
    "PYTHONMALLOC=mimalloc_debug -- -X dev -X tracemalloc"
)

ran=0
for label in "${NGR_PY_LABEL:-py}"; do
    py=$NGR_PYTHON
    for s in "${settings[@]}"; do
        envs=${s%%--*} opts=${s#*--}
        name=$(echo "$label $s" | tr -c 'a-zA-Z0-9_\n' _)
        # shellcheck disable=SC2086
        env $envs "$py" $opts app.py >"$name.out0" 2>"$name.err0"; rc0=$?
        rm -rf "tr.$name" && mkdir "tr.$name"
        # shellcheck disable=SC2086
        env $envs LD_PRELOAD="$NGR_PRELOAD" NOGILRACE_TRACE_DIR="$PWD/tr.$name" \
            "$py" $opts app.py >"$name.out1" 2>"$name.err1"; rc1=$?
        [ "$rc0" = "$rc1" ] || fail "[$label $s] exit $rc0 without the shim, $rc1 with it: $(head -c 600 "$name.err1")"
        cmp -s "$name.out0" "$name.out1" || fail "[$label $s] stdout differs: $(diff "$name.out0" "$name.out1" | head -5)"
        cmp -s "$name.err0" "$name.err1" || fail "[$label $s] stderr differs: $(diff "$name.err0" "$name.err1" | head -8)"
        if [ "$rc0" = 0 ]; then
            "$NGR_ANALYZER" dump --json "tr.$name" >"$name.dump" 2>&1 || fail "[$label $s] dump: $(head -3 "$name.dump")"
            grep -q '"type":"header".*"finished":true' "$name.dump" || fail "[$label $s] trace not finished"
            grep -q '"var":"race_counter.counter"' "$name.dump" || fail "[$label $s] no access to race_counter.counter in the trace"
            ran=$((ran + 1))
            echo "ok: [$label $s] exit 0, same output, trace finished"
        else
            echo "ok: [$label $s] exit $rc0 both ways ($(head -n 1 "$name.err0" | head -c 100))"
        fi
    done
done
# Every build accepts the debug allocator and development mode: most settings must have run.
[ "$ran" -ge 8 ] || fail "only $ran of ${#settings[@]} settings ran at all"
echo "pymalloc: ok ($ran traced runs)"
