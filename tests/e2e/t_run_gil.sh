#!/usr/bin/env bash
# `nogilrace run` with the default (GIL) build of the CPython under test (NGR_GIL_PYTHON: on a
# default build NGR_PYTHON itself, on a free-threaded one its version's GIL build when it is tested
# here too): `+=` on a global is not atomic there either, so the guide's audit item is reported
# (66), and its locked fix is not (0).
set -u
fail() { echo "FAIL: $*"; exit 1; }
if [ -z "${NGR_GIL_PYTHON:-}" ]; then
    echo "skip: no default (GIL) build of CPython ${NGR_PY_VERSION:-?} is tested here"
    exit 77
fi
corpus=$NGR_ROOT/tests/corpus
"$NGR_ANALYZER" run --format=json -- "$NGR_GIL_PYTHON" "$corpus/audit_instance_count.py" >racy.json 2>racy.err
rc=$?
[ "$rc" = 66 ] || { cat racy.json racy.err; fail "racy program under the GIL build: exit $rc, want 66"; }
grep -q '"var_name": "audit_instance_count.instance_count"' racy.json ||
    { cat racy.json; fail "the report does not name audit_instance_count.instance_count"; }
grep -q '"gil_enabled": true' racy.json || { cat racy.json; fail "the report does not say the GIL was on"; }
"$NGR_ANALYZER" run --format=json -- "$NGR_GIL_PYTHON" "$corpus/fix_module_lock.py" >clean.json 2>clean.err
rc=$?
[ "$rc" = 0 ] || { cat clean.json clean.err; fail "clean program under the GIL build: exit $rc, want 0"; }
echo "ok: GIL build: racy -> 66, fixed -> 0"
