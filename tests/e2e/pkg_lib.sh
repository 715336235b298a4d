# pkg_lib.sh — sourced by the t_pkg_* tests: a clean source tree and venvs with nogilrace
# installed by pip from it, for the interpreter under test (NGR_PYTHON).  Not a test itself.
#
#   pkg_clean_tree DIR     DIR: `git clone` of NGR_ROOT (the committed tree: commit what you test);
#                          where git is missing (the sid chroot), a copy of NGR_ROOT without build
#                          products, .git or ignored files, the way the sdist's file list is made
#   pkg_venv DIR           a fresh venv of NGR_PYTHON in DIR (exit 77 when this Python has no venv)
#   pkg_pip DIR ARGS...    DIR/bin/pip install, quiet, output in DIR.pip.log (shown on failure)

pkg_clean_tree() {
    local dest=$1
    if command -v git >/dev/null && git -C "$NGR_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        git clone -q "$NGR_ROOT" "$dest" || { echo "FAIL: git clone $NGR_ROOT"; exit 1; }
        if [ -n "$(git -C "$NGR_ROOT" status --porcelain --untracked-files=no)" ]; then
            echo "note: $NGR_ROOT has uncommitted changes; this tests the committed tree"
        fi
        return
    fi
    echo "note: no git here: a copy of $NGR_ROOT without build products stands for a clean clone"
    "$NGR_PYTHON" -B - "$NGR_ROOT" "$dest" <<'PY' || { echo "FAIL: cannot copy the tree"; exit 1; }
import os, shutil, sys
src, dst = sys.argv[1:]
sys.path.insert(0, os.path.join(src, "python", "build_backend"))
import nogilrace_build
for rel in nogilrace_build._source_files():
    os.makedirs(os.path.dirname(os.path.join(dst, rel)) or dst, exist_ok=True)
    shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))
PY
}

pkg_venv() {
    "$NGR_PYTHON" -m venv "$1" >"$1.venv.log" 2>&1 || {
        cat "$1.venv.log"
        echo "skip: $NGR_PYTHON cannot make a venv (its venv module is missing)"
        exit 77
    }
}

pkg_pip() {
    local venv=$1
    shift
    "$venv/bin/python" -m pip install --disable-pip-version-check "$@" >"$venv.pip.log" 2>&1 || {
        grep -v "^WARNING: Location" "$venv.pip.log" | tail -n 40
        return 1
    }
}
