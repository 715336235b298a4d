#!/usr/bin/env bash
# t_build_port — `make PYTHON=X` for a CPython version nogilrace has no hooks port for (no
# preload/cpython/ver_<XY>.c) stops with one line naming the version and the supported ones, exits
# non-zero and builds nothing: before, it linked a nogilrace-<tag>.so without the version layer,
# which cannot load (undefined ngr_v_* symbols), and exited 0.  The free-threaded and the default
# build of a version with a port both compile that version's ver_<XY>.c, and no other version's.
# The interpreters are fakes: the real NGR_PYTHON, claiming another version and ABI flags.
set -u
fail() { echo "FAIL: $*"; exit 1; }
# The suite may run under `make -jN check`: these makes are our own.
unset MAKEFLAGS MFLAGS MAKELEVEL

# fake X.Y ABIFLAGS: a "python" that reports CPython X.Y with those flags (its sysconfig is the
# real one's, read before the version is changed).
fake() {
    local f=$NGR_TMP/fake-$1$2/python
    mkdir -p "${f%/*}"
    cat >"$f" <<EOF
#!/bin/sh
[ "\$1" = -c ] || { echo "fake python: only -c" >&2; exit 2; }
exec "$NGR_PYTHON" -c "import sys, sysconfig; sysconfig.get_config_vars(); sysconfig.get_paths()
sys.version_info = (${1%%.*}, ${1#*.}, 0, 'final', 0); sys.abiflags = '$2'
\$2"
EOF
    chmod +x "$f"
    echo "$f"
}

supported=""
for f in "$NGR_ROOT"/preload/cpython/ver_*.c; do
    xy=${f##*/ver_}; xy=${xy%.c}
    [[ "$xy" =~ ^[0-9]+$ ]] || continue    # ver_313_depth.c: part of 3.13's layer, not a port
    supported="$supported, ${xy:0:1}.${xy:1}"
done
supported=${supported#, }
[ -n "$supported" ] || fail "no preload/cpython/ver_*.c at all"
[ ! -e "$NGR_ROOT/preload/cpython/ver_312.c" ] || fail "3.12 has a port now: pick another version here"

# ---- no port: one line, non-zero, nothing built ------------------------------------------------
for abi in "" t; do
    py=$(fake 3.12 "$abi")
    [ "$("$py" -c 'import sys; print(sys.version_info[:2], sys.abiflags)')" = "(3, 12) $abi" ] ||
        fail "the fake python does not claim 3.12$abi"
    for goal in "" hooks; do
        out=$NGR_TMP/b-$abi-$goal
        (cd "$NGR_ROOT" && make $goal PYTHON="$py" BUILD="$out") >make.out 2>&1
        rc=$?
        what="make ${goal:+$goal }PYTHON=<3.12$abi>"
        [ "$rc" != 0 ] || { cat make.out; fail "$what exited 0"; }
        [ "$(wc -l <make.out)" = 1 ] || { cat make.out; fail "$what: more than one line of output"; }
        grep -qF "nogilrace: no hooks port for CPython 3.12 (cp312$abi); supported: $supported — see README" make.out ||
            { cat make.out; fail "$what: the line does not name the version and the supported ones"; }
        [ ! -e "$out" ] || { find "$out" | head; fail "$what built something"; }
        echo "ok: $what -> exit $rc: $(cat make.out)"
    done
done

# ---- a port: both builds of the version compile its one ver file ------------------------------
xy=${supported%%,*}
for abi in "" t; do
    py=$(fake "$xy" "$abi")
    tag=cp${xy/./}$abi
    (cd "$NGR_ROOT" && make -n hooks PYTHON="$py" BUILD="$NGR_TMP/n") >dry.out 2>&1 ||
        { cat dry.out; fail "make -n hooks for a fake $xy$abi failed"; }
    grep -q "ver_${xy/./}\.c -o $NGR_TMP/n/obj/hooks-$tag/" dry.out ||
        { cat dry.out; fail "$tag does not compile ver_${xy/./}.c"; }
    others=$(grep -o 'preload/cpython/ver_[0-9]*' dry.out | sort -u | grep -v "ver_${xy/./}\$")
    [ -z "$others" ] || { cat dry.out; fail "$tag compiles another version's layer: $others"; }
    grep -q -- "-o $NGR_TMP/n/nogilrace-$tag.so" dry.out || { cat dry.out; fail "no nogilrace-$tag.so linked"; }
    echo "ok: $tag compiles ver_${xy/./}.c"
done

# ---- the shim's list of ports (its message for an interpreter without one) agrees -------------
[ "$("$NGR_ROOT/scripts/hooks-port" --supported)" = "$supported" ] ||
    fail "scripts/hooks-port --supported says '$("$NGR_ROOT/scripts/hooks-port" --supported)', want '$supported'"
grep -qF "#define NGR_PORTS_TEXT \"$supported\"" "$NGR_ROOT/preload/ports.h" ||
    fail "preload/ports.h's NGR_PORTS_TEXT is not \"$supported\" (a port was added or removed)"
first=${supported%%,*}; last=${supported##* }
grep -qE "#define NGR_PORT_FIRST_MINOR ${first#3.}( |$)" "$NGR_ROOT/preload/ports.h" &&
    grep -qE "#define NGR_PORT_LAST_MINOR ${last#3.}( |$)" "$NGR_ROOT/preload/ports.h" ||
    fail "preload/ports.h's first/last minor are not ${first#3.}/${last#3.}"
echo "ok: preload/ports.h lists $supported"

# ---- a real interpreter without a port, when this machine has one: one line, then untraced ----
ran=0
for v in 3.12 3.11 3.10; do
    py=$(command -v "python$v") || continue
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || continue  # Py_Version: 3.11+
    want="nogilrace: no hooks for CPython $v (cp${v/./}): nogilrace supports $supported; running untraced"
    prog='import threading; t = threading.Thread(target=print, args=("t",)); t.start(); t.join(); raise SystemExit(5)'
    mkdir -p "$NGR_TMP/unported-$v"
    LD_PRELOAD=$NGR_PRELOAD NOGILRACE_TRACE_DIR=$NGR_TMP/unported-$v "$py" -c "$prog" >out.txt 2>err.txt
    rc=$?
    [ "$rc" = 5 ] && [ "$(cat out.txt)" = t ] || fail "python$v under the shim: exit $rc, output '$(cat out.txt)'"
    [ "$(cat err.txt)" = "$want" ] || fail "python$v: stderr '$(cat err.txt)', want '$want'"
    echo "ok: python$v runs untraced after: $want"
    ran=1
done
[ "$ran" = 1 ] || echo "note: no python3.10-3.12 on PATH: the shim's message for an unported version not exercised"
