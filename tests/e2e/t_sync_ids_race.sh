#!/usr/bin/env bash
# t_sync_ids_race.sh — the id table of C lock objects (preload/cpython/sync_ids.c) under two
# threads inserting into the same free slot at the same moment, 50000 times: each object must
# read back its own id (before the fix a slot's id was written before the CAS that claimed it,
# and the winner kept the loser's id: ~2/3 of the rounds failed).  The table is compiled into a
# small harness, with two addresses chosen so that their probes start at the same slot — the
# collision that Python programs hit only by chance.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$NGR_TMP" || exit 1
R=$NGR_ROOT
PYINC=$("$NGR_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])') ||
    fail "no include dir from $NGR_PYTHON"

cat >race.c <<'EOF'
#include SYNC_IDS_C /* the table itself, statics included (slot_of) */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define ROUNDS 50000
static uintptr_t addr[2];
static _Atomic unsigned arrived, phase;
static _Atomic long bad;

/* Both threads leave together (a spinning barrier; yields so a busy machine still progresses). */
static void barrier(void)
{
    unsigned p = atomic_load(&phase);
    if (atomic_fetch_add(&arrived, 1) == 1) {
        atomic_store(&arrived, 0);
        atomic_store(&phase, p + 1);
        return;
    }
    for (unsigned spins = 0; atomic_load(&phase) == p; spins++)
        if (spins > 1000)
            sched_yield();
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (unsigned r = 0; r < ROUNDS; r++) {
        barrier(); /* both insert at the same moment */
        uint64_t id = ngr_sync_ids_new((void *)addr[me]);
        uint64_t got = ngr_sync_ids_get((void *)addr[me]);
        if (got != id || (id & ((1ull << 48) - 1)) != addr[me])
            if (atomic_fetch_add(&bad, 1) < 3)
                fprintf(stderr, "round %u, object %d at %lx: created with id %lx, looked up %lx\n",
                        r, me, (unsigned long)addr[me], (unsigned long)id, (unsigned long)got);
        barrier(); /* both looked up before either drops */
        if (ngr_sync_ids_drop((void *)addr[me]) != id)
            atomic_fetch_add(&bad, 1);
    }
    return NULL;
}

int main(void)
{
    if (ngr_sync_ids_init() < 0)
        return 2;
    addr[0] = 0x7f0000001000;
    for (uintptr_t a = addr[0] + 16; !addr[1]; a += 16)
        if (slot_of(a) == slot_of(addr[0]))
            addr[1] = a;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("%ld wrong ids in %d rounds\n", atomic_load(&bad), ROUNDS);
    return atomic_load(&bad) != 0;
}
EOF
gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -DSYNC_IDS_C="\"$R/preload/cpython/sync_ids.c\"" \
    -I"$R/preload/cpython" -I"$R/preload" -I"$R/common" -I"$PYINC" race.c -o race -lpthread ||
    fail "harness does not compile"
out=$(timeout 120 ./race 2>&1) || fail "$out"
echo "ok: $out"
