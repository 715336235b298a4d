#!/usr/bin/env bash
# t_shim_inert.sh — libnogilrace.so is invisible to non-Python programs: same output, same exit
# status, no file anywhere, also with LD_BIND_NOW=1; and it has no link-time tie to libpython.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$NGR_TMP" || exit 1
P=$NGR_PRELOAD

# ---- no libpython at link time -------------------------------------------------------------
readelf -d "$P" | grep NEEDED | grep -qi python && fail "libnogilrace.so NEEDs libpython"
if nm -D --undefined-only "$P" | awk '{print $2}' | grep -q '^_\?Py'; then
    fail "undefined Py symbols: $(nm -D --undefined-only "$P" | grep Py | head -3)"
fi

# ---- a small C program: threads, mutex, rwlock, semaphore, condvar, fork, exec ---------------
cat >prog.c <<'EOF'
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t s;
static long counter;
static void *work(void *a) {
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&m); counter++; pthread_mutex_unlock(&m);
        pthread_rwlock_rdlock(&rw); pthread_rwlock_unlock(&rw);
    }
    sem_post(&s);
    pthread_mutex_lock(&m); pthread_cond_broadcast(&c); pthread_mutex_unlock(&m);
    return a;
}
int main(int argc, char **argv) {
    sem_init(&s, 0, 0);
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < 8; i++) sem_wait(&s);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    pthread_t d; pthread_create(&d, NULL, work, NULL); pthread_detach(d); sem_wait(&s);
    printf("counter=%ld\n", counter);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { execlp("sh", "sh", "-c", "echo child; exit 7", (char *)NULL); _exit(99); }
    int st; waitpid(pid, &st, 0);
    printf("child status %d\n", WEXITSTATUS(st));
    fprintf(stderr, "to stderr\n");
    return argc > 1 ? atoi(argv[1]) : 3;
}
EOF
gcc -O1 -pthread -o prog prog.c || fail "cannot compile the test program"
cat >Makefile <<'EOF'
all:
	@echo making; true
	@sh -c 'exit 0'
EOF

mkdir -p traces
run_both() {  # run_both NAME CMD... : compares output and status with and without the preload
    local name=$1; shift
    # `env` prints its environment: the LD_* lines are the only expected difference.
    local strip='/^LD_PRELOAD=/d;/^LD_BIND_NOW=/d'
    env NOGILRACE_TRACE_DIR="$NGR_TMP/traces" "$@" 2>"$name.err0" | sed "$strip" >"$name.out0"
    local rc0=${PIPESTATUS[0]}
    for bind in "" 1; do
        env LD_PRELOAD="$P" ${bind:+LD_BIND_NOW=1} NOGILRACE_TRACE_DIR="$NGR_TMP/traces" \
            "$@" 2>"$name.err1" | sed "$strip" >"$name.out1"
        local rc1=${PIPESTATUS[0]}
        [ "$rc0" = "$rc1" ] || fail "$name: exit $rc0 without, $rc1 with the preload (bind=$bind)"
        cmp -s "$name.out0" "$name.out1" || fail "$name: stdout differs (bind=$bind): $(diff "$name.out0" "$name.out1" | head -5)"
        cmp -s "$name.err0" "$name.err1" || fail "$name: stderr differs (bind=$bind): $(diff "$name.err0" "$name.err1" | head -5)"
    done
    echo "ok: $name (exit $rc0)"
}

run_both sh /bin/sh -c 'echo hello; echo err >&2; exit 5'
run_both env env
run_both make make --no-print-directory
run_both prog ./prog
run_both prog2 ./prog 0
run_both false /bin/false

# Nothing left behind: not in the trace directory, not in the working directory.
left=$(find "$NGR_TMP" -name '*.ngrtrace' | head -3)
[ -z "$left" ] || fail "files left behind: $left"
grep -q "counter=180000" prog.out1 || fail "C program result wrong: $(cat prog.out1)"
echo "inert: ok"
