"""t_access_include_reuse.py — a module whose globals dict takes the address of a freed, untraced
module's dict is traced under its own name (NOGILRACE_INCLUDE / NOGILRACE_EXCLUDE decide by it).

The hooks cache each globals dict's module name by address.  In rounds, the program makes `junk*`
modules (left out by the filter, so their dicts are not traced namespaces), frees them, and then
as many `keep*` modules in a tight loop, so that many keep dicts are allocated at a freed junk
dict's address (the program prints how many; the test fails if none was, as it would prove
nothing).  Rounds go on, up to a cap, until some address was reused: when that starts depends on
the allocator and on what the hooks allocate meanwhile (3.14t under the hooks: from the sixth
round or so).  Every keep module must then have its three writes of `x` (the module body, bump(),
the main script's `k.x = ...`) and bump()'s read recorded as `keepR_I.x`, and no junk name may
appear.  Before the fix the keep modules at reused addresses were not traced at all (they
inherited `junkN`, which the filter rejects).
"""
from t_access_lib import check, interpreters, run

ROUNDS = (40, 80, 160, 200, 320) * 4  # the program stops after the 5th once reuse happened

SRC = """\
    import gc
    import sys
    import types

    JUNK = "x = [0]\\n"
    KEEP = (
        "x = [0]\\n"
        "def bump():\\n"
        "    global x\\n"
        "    x = [x[0] + 1]\\n"
    )

    keeps, reused = [], 0
    # The allocators reuse addresses in batches whose size depends on the build (free lists,
    # mimalloc pages): a few rounds of different sizes make reuse certain on both builds.
    sizes = []
    for r, n in enumerate(%r):
        if r >= 5 and reused:
            break
        sizes.append(n)
        junk = [types.ModuleType("junk%%d_%%d" %% (r, i)) for i in range(n)]
        for m in junk:
            sys.modules[m.__name__] = m  # the hooks see it, cache its name, leave it out
            exec(JUNK, m.__dict__)
        freed = {id(m.__dict__) for m in junk}
        for m in junk:
            del sys.modules[m.__name__]
        del junk, m
        gc.collect()  # the free-threaded build frees module dicts only here
        # nothing else allocated in between: the new dicts come from the freed ones
        batch = [types.ModuleType("keep%%d_%%d" %% (r, i)) for i in range(n)]
        reused += sum(id(k.__dict__) in freed for k in batch)
        keeps += batch
        for k in batch:
            sys.modules[k.__name__] = k
            exec(KEEP, k.__dict__)
            k.bump()
            k.x = [k.x[0] + 10]
    print(reused, sum(k.x[0] for k in keeps), ",".join(map(str, sizes)))
""" % (ROUNDS,)


def main():
    for label, py in interpreters():
        for env in ({"NOGILRACE_INCLUDE": "keep*"}, {"NOGILRACE_EXCLUDE": "junk*"}):
            L = "[%s %s] " % (label, " ".join("%s=%s" % kv for kv in env.items()))
            r = run(SRC, py, env=env)
            out = r.stdout.split()
            check(len(out) == 3, L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
            sizes = [int(n) for n in out[2].split(",")]
            N = sum(sizes)
            check(out[1] == str(11 * N), L + "output %r %s" % (r.stdout, r.stderr[-2000:]))
            reused = int(out[0])
            check(reused > 0, L + "no keep module dict took a freed junk dict's address: the case "
                                  "was not exercised")
            writes, reads = {}, {}
            for a in r.accesses():
                if a["var"].startswith("keep"):
                    d = writes if a["kind"] == "write" else reads if a["kind"] == "read" else {}
                    d[a["var"]] = d.get(a["var"], 0) + 1
            junk = sorted({v for v in r.vars() if v.startswith("junk")})
            check(not junk, L + "junk modules are filtered out, yet traced: %s" % junk[:10])
            want = {"keep%d_%d.x" % (r, i) for r, n in enumerate(sizes) for i in range(n)}
            stray = sorted(v for v in r.vars() if v.startswith("keep") and v not in want)
            check(not stray, L + "unexpected keep variables: %s" % stray[:10])
            missing = sorted(v for v in want if writes.get(v, 0) < 3)
            check(not missing, L + "%d of %d keep modules (%d at a reused address) lack their 3 "
                                   "writes of x: %s" % (len(missing), N, reused, missing[:12]))
            unread = sorted(v for v in want if not reads.get(v))
            check(not unread, L + "bump()'s read of x missing for %d modules: %s" % (len(unread), unread[:12]))
            print(L + "ok: %d of %d keep dicts (%d rounds) at freed junk addresses, all traced as "
                  "keepR_I.x" % (reused, N, len(sizes)))


main()
