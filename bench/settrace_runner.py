"""The sys.settrace baseline: what a pure-Python detector built on line tracing costs.

usage: settrace_runner.py SCRIPT [ARGS...]

Installs a trace function in every thread (threading.settrace before the script starts its
threads, sys.settrace for the main thread).  On each 'line' event it looks up, from a per-code
table built once with dis, the module globals that line loads and stores, and records each one in
the thread's shadow table (name -> (kind, line)): the least a settrace-based race detector has to
do per access, with no analysis on top.  It prints the number of recorded accesses to stderr at
exit, so a tracer that silently recorded nothing would be noticed.
"""
import atexit
import dis
import runpy
import sys
import threading

_tables = {}  # code object -> {line: ((name, is_store), ...)}
_lock = threading.Lock()
_counts = []  # one single-item list per thread, summed at exit
_local = threading.local()


def _table(code):
    table = _tables.get(code)
    if table is None:
        table = {}
        line = code.co_firstlineno
        for ins in dis.get_instructions(code):
            if ins.positions is not None and ins.positions.lineno is not None:
                line = ins.positions.lineno
            if ins.opname in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL"):
                name = ins.argval
                table.setdefault(line, []).append((name, ins.opname != "LOAD_GLOBAL"))
        table = {k: tuple(v) for k, v in table.items()}
        _tables[code] = table
    return table


def _shadow():
    try:
        return _local.shadow, _local.count
    except AttributeError:
        _local.shadow = {}
        _local.count = [0]
        with _lock:
            _counts.append(_local.count)
        return _local.shadow, _local.count


def _local_trace(frame, event, arg):
    if event == "line":
        accesses = _table(frame.f_code).get(frame.f_lineno)
        if accesses:
            shadow, count = _shadow()
            for name, is_store in accesses:
                shadow[name] = (is_store, frame.f_lineno)
            count[0] += len(accesses)
    return _local_trace


def _global_trace(frame, event, arg):
    # Only trace code that can touch module globals the way user code does.
    if event == "call" and _table(frame.f_code):
        return _local_trace
    return None


def _report():
    print(f"settrace_runner: {sum(c[0] for c in _counts)} global accesses recorded", file=sys.stderr)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    atexit.register(_report)
    threading.settrace(_global_trace)
    sys.settrace(_global_trace)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
