#!/usr/bin/env bash
# t_pkg_pip_install — `pip install` of a clean clone, and (on a free-threaded interpreter) of its
# sdist, into a fresh venv of the interpreter under test builds nogilrace for that interpreter and
# installs the `nogilrace` command: `nogilrace run -- python examples/seed.py` reports the seed's
# two races (exit 66), and
# `nogilrace run -- python -m pytest` works with no other step.  The clone is left clean (the build
# happens elsewhere).  A missing compiler, a compiler that finds no system headers (uthash.h,
# libc), or an interpreter without its headers (Python.h) fails the build with one line naming
# what is missing and its Debian package.
set -u
fail() { echo "FAIL: $*"; exit 1; }
unset MAKEFLAGS MFLAGS MAKELEVEL
helper() { "$NGR_PYTHON" -B "$NGR_ROOT/tests/e2e/pkg_helpers.py" "$@"; }
pkg_clean_tree() { helper clean-tree "$1" || fail "no clean tree"; }
pkg_venv() { helper venv "$1"; local rc=$?; [ $rc = 77 ] && exit 77; [ $rc = 0 ] || fail "venv $1"; }
pkg_pip() { helper pip "$@"; }

pkg_clean_tree clone
pkg_venv venv
start=$(date +%s)
pkg_pip venv ./clone || fail "pip install ./clone failed"
echo "pip install ./clone: $(( $(date +%s) - start ))s"
[ -x venv/bin/nogilrace ] || fail "no nogilrace command in the venv"
venv/bin/nogilrace --version | grep -q "^nogilrace " || fail "nogilrace --version: $(venv/bin/nogilrace --version 2>&1)"
if [ -d clone/.git ]; then
    dirty=$(git -C clone status --porcelain)
    [ -z "$dirty" ] || fail "pip install left files in the clone: $dirty"
fi
[ -e clone/build ] && fail "pip install built into the clone (clone/build exists)"

# seed_races VENV: the seed example under `nogilrace run` reports its two races
seed_races() {
    # the seed's own output to a file, the report alone on stdout (`exec`: the same process)
    "$1/bin/nogilrace" run --format=json -- /bin/sh -c 'exec "$0" "$@" >seed.out' \
        "$1/bin/python" clone/examples/seed.py >seed.json 2>seed.err
    local rc=$?
    [ "$rc" = 66 ] || { cat seed.err; fail "$1: nogilrace run seed.py: exit $rc, want 66"; }
    "$1/bin/python" - seed.json <<'PY' || fail "$1: the seed's races are not both reported"
import json, sys
got = {(r["kind"], r["variable"]) for r in json.load(open(sys.argv[1]))["races"]}
want = {("lost-update", "seed.instance_count"), ("check-then-act", "seed._singleton")}
print("reported:", sorted(got))
sys.exit(0 if want <= got else 1)
PY
}
seed_races venv

# `nogilrace run -- python -m pytest` with pytest from the package index, nothing else
pkg_pip venv pytest || fail "pip install pytest"
mkdir -p suite
cat >suite/test_threads.py <<'PY'
import race_counter  # tests/corpus/helpers: threads racing on race_counter.counter


def test_threads_bump():
    race_counter.main()
PY
(cd suite && PYTHONPATH=../clone/tests/corpus/helpers \
    ../venv/bin/nogilrace run -- ../venv/bin/python -m pytest -q -p no:cacheprovider >../pytest.out 2>&1)
rc=$?
cat pytest.out | tail -n 8
[ "$rc" = 66 ] || fail "nogilrace run -- python -m pytest: exit $rc, want 66"
grep -q "1 passed" pytest.out || fail "pytest did not pass its one test"
grep -q "lost-update on race_counter.counter" pytest.out || fail "the test's race is not reported"

# the sdist of the clone, into another fresh venv: on free-threaded interpreters only (packing
# the sdist does not depend on the interpreter, and its build is the clone's, tested above on all)
ft=${NGR_PY_FREE_THREADED:-$("$NGR_PYTHON" -c "import sys; print(int('t' in sys.abiflags))")}
if [ "$ft" = 1 ]; then
(cd clone && "$NGR_PYTHON" -B -c "import sys; sys.path.insert(0, 'python/build_backend')
import nogilrace_build; print(nogilrace_build.build_sdist(sys.argv[1]))" "$NGR_TMP") >sdist.out 2>&1 ||
    { cat sdist.out; fail "build_sdist"; }
sdist=$NGR_TMP/$(tail -n 1 sdist.out)
tar tzf "$sdist" | grep -q "/pyproject.toml$" || fail "the sdist has no pyproject.toml"
tar tzf "$sdist" | grep -q "/PKG-INFO$" || fail "the sdist has no PKG-INFO"
pkg_venv venv2
pkg_pip venv2 "$sdist" || fail "pip install of the sdist failed"
seed_races venv2
else
    echo "note: the sdist is installed on free-threaded interpreters only"
fi

# what the build needs, missing: one line naming it (pip shows "[1 lines of output]")
pkg_venv venv3
CC=/nonexistent/cc pkg_pip venv3 ./clone && fail "pip install with CC=/nonexistent/cc succeeded"
lines=$(grep -c "nogilrace: cannot build:" venv3.pip.log)
grep -q "nogilrace: cannot build: no C compiler: \`/nonexistent/cc\` not found (Debian package gcc" venv3.pip.log &&
    [ "$lines" = 1 ] || fail "missing compiler: not one line naming it"
grep -q "\[1 lines of output\]" venv3.pip.log || fail "missing compiler: more than the one line"
CC="gcc -nostdinc" pkg_pip venv3 ./clone && fail "pip install with a compiler that finds no headers succeeded"
grep "nogilrace: cannot build: missing" venv3.pip.log | grep -q "uthash.h (Debian package uthash-dev)" ||
    fail "missing uthash.h: not named"
grep -q "\[1 lines of output\]" venv3.pip.log || fail "missing headers: more than the one line"
# an interpreter whose headers are not installed: a sitecustomize makes this one say its include
# directory is /usr/include/python3.99 (the backend, and scripts/hooks-port it asks, see that;
# no build isolation, so that PYTHONPATH reaches them)
mkdir -p noheaders
cat >noheaders/sitecustomize.py <<'PY'
import sysconfig
_get_path = sysconfig.get_path
sysconfig.get_path = lambda name, *a, **k: "/usr/include/python3.99" if name == "include" else _get_path(name, *a, **k)
PY
PYTHONPATH=$PWD/noheaders pkg_pip venv3 --no-build-isolation ./clone &&
    fail "pip install for an interpreter without its headers succeeded"
grep "nogilrace: cannot build: missing" venv3.pip.log |
    grep -q "Python.h of .* in /usr/include/python3.99 (Debian package python3.99-dev); as root: apt-get install python3.99-dev" ||
    fail "missing Python headers: not named with their Debian package"
[ -e venv3/bin/nogilrace ] && fail "a failed build installed something"
echo "ok"
