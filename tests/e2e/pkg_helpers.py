"""pkg_helpers.py — shared by the t_pkg_* tests: a clean source tree, and venvs of the interpreter
under test (NGR_PYTHON) with nogilrace installed by pip from it.  Not a test itself.

From Python: ``from pkg_helpers import clean_tree, venv, pip``.  From a shell test:
``"$NGR_PYTHON" "$NGR_ROOT/tests/e2e/pkg_helpers.py" clean-tree DEST | venv DIR | pip DIR ARGS...``
(exit 0, 1 on failure, 77 when this Python cannot make a venv).

  clean_tree(dest)   dest: `git clone` of NGR_ROOT, i.e. the committed tree (commit what you test);
                     where there is no git (the sid chroot), a copy of the files the sdist would
                     hold (no build products, .git or caches) stands for it
  venv(dir)          a fresh venv of NGR_PYTHON
  pip(dir, *args)    dir/bin/pip install ARGS; its output in dir.pip.log, the end of it shown when it
                     fails; returns True on success
"""
import os
import shutil
import subprocess
import sys

PYTHON = os.environ["NGR_PYTHON"]
ROOT = os.environ["NGR_ROOT"]


class Skip(Exception):
    pass


def clean_tree(dest):
    if shutil.which("git") and subprocess.run(["git", "-C", ROOT, "rev-parse", "--git-dir"],
                                              capture_output=True).returncode == 0:
        subprocess.run(["git", "clone", "-q", ROOT, dest], check=True)
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout
        if dirty:
            print("note: %s has uncommitted changes; this tests the committed tree" % ROOT)
        return
    print("note: no git here: a copy of %s without build products stands for a clean clone" % ROOT)
    sys.path.insert(0, os.path.join(ROOT, "python", "build_backend"))
    sys.dont_write_bytecode = True
    import nogilrace_build
    for rel in nogilrace_build._source_files():
        os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), os.path.join(dest, rel))


def venv(path):
    r = subprocess.run([PYTHON, "-m", "venv", path], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        raise Skip("%s cannot make a venv (its venv module is missing)" % PYTHON)


def pip(path, *args, env=None):
    with open(path + ".pip.log", "w") as log:
        r = subprocess.run([os.path.join(path, "bin", "python"), "-m", "pip", "install",
                            "--disable-pip-version-check"] + list(args), stdout=log, stderr=subprocess.STDOUT,
                           env=env)
    if r.returncode != 0:
        with open(path + ".pip.log") as log:
            lines = [line for line in log.read().splitlines() if not line.startswith("WARNING: Location")]
        print("\n".join(lines[-40:]))
    return r.returncode == 0


def main(argv):
    try:
        if argv[:1] == ["clean-tree"] and len(argv) == 2:
            clean_tree(argv[1])
        elif argv[:1] == ["venv"] and len(argv) == 2:
            venv(argv[1])
        elif argv[:1] == ["pip"] and len(argv) >= 3:
            return 0 if pip(argv[1], *argv[2:]) else 1
        else:
            print("usage: pkg_helpers.py clean-tree DEST | venv DIR | pip DIR ARGS...", file=sys.stderr)
            return 2
    except Skip as e:
        print("skip:", e)
        return 77
    except subprocess.CalledProcessError as e:
        print("FAIL:", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
