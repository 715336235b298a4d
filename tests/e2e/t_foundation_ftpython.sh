#!/usr/bin/env bash
# scripts/ft-python: prints an absolute path to a free-threaded 3.13, reuses the cached build
# (a second call must not build: here it runs with build tools unusable), honours overrides.
set -eu
ft="$NGR_ROOT/scripts/ft-python"
fail() { echo "FAIL: $*"; exit 1; }
# The script under test does not depend on the interpreter under test: once, with its own one.
if [ "${NGR_PY_LABEL:-3.13t}" != 3.13t ]; then
    echo "skip: tests scripts/ft-python; runs with the 3.13t interpreter only"
    exit 77
fi

p=$("$ft")
case "$p" in /*) ;; *) fail "not an absolute path: $p" ;; esac
[ "$("$p" -c 'import sys; print(sys.version_info[:2], sys._is_gil_enabled())')" = "(3, 13) False" ] ||
    fail "$p is not a free-threaded 3.13"

# Cached: with make, tar, apt-get and cc replaced by failing stubs, the call still answers.
mkdir -p stubs
for tool in make tar apt-get cc gcc configure; do
    printf '#!/bin/sh\necho "stub %s called" >&2\nexit 99\n' "$tool" >"stubs/$tool"
    chmod +x "stubs/$tool"
done
out=$(PATH="$PWD/stubs:$PATH" "$ft" 2>err.txt) || fail "cached call failed: $(cat err.txt)"
[ "$out" = "$p" ] || fail "cached call printed '$out', first call '$p'"
[ ! -s err.txt ] || fail "cached call wrote to stderr: $(cat err.txt)"

# Only the path on stdout.
[ "$(printf '%s' "$out" | wc -l)" = 0 ] || fail "more than one line on stdout"

# Overrides: a GIL interpreter is refused for the free-threaded slot, accepted for --gil.
g=$("$ft" --gil)
[ "$("$g" -c 'import sys; print(sys._is_gil_enabled())')" = True ] || fail "--gil gave $g"
if NOGILRACE_PYTHON="$g" "$ft" >/dev/null 2>err.txt; then fail "accepted a GIL python as free-threaded"; fi
grep -q "is not a free-threaded CPython 3.13" err.txt || fail "unclear refusal: $(cat err.txt)"
[ "$(NOGILRACE_PYTHON="$p" "$ft")" = "$(readlink -f "$p")" ] || fail "NOGILRACE_PYTHON not honoured"
if "$ft" --bogus 2>/dev/null; then fail "accepted an unknown option"; fi
echo "ok"
