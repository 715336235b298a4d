/* hook_thread.c — thread creation, exit, join and detach.
 *
 * pthread_t values are reused, so threads are numbered by creation: the number is taken in the
 * parent, SPAWN is written there, BEGIN first thing in the child (through a wrapper around the
 * start routine) and END from a thread-specific-data destructor, which runs for a normal return,
 * pthread_exit and cancellation alike.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <stdlib.h>

/* The libc/pthread symbols defined here are the shim's interface to the program. */
#pragma GCC visibility push(default)

#define REAL(name) (real_##name ? real_##name : (ngr_real_resolve(), real_##name))

struct start_info {
    void *(*fn)(void *);
    void *arg;
    uint32_t num, parent;
};

static pthread_key_t end_key;
static pthread_once_t end_key_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *unused)
{
    (void)unused;
    int saved = errno;
    ngr_t.depth++;
    ngr_thread_end();
    ngr_t.depth--;
    errno = saved;
}

static void make_end_key(void) { pthread_key_create(&end_key, on_thread_exit); }

NGR_HIDDEN void ngr_thread_adopted(void)
{
    pthread_once(&end_key_once, make_end_key);
    pthread_setspecific(end_key, (void *)1);
}

static void *thread_start(void *p)
{
    struct start_info si = *(struct start_info *)p;
    free(p);
    if (ngr_on()) {
        int saved = errno;
        ngr_t.depth++;
        pthread_setspecific(end_key, (void *)1); /* first: END even if cancelled right away */
        ngr_thread_begin(si.num, si.parent);
        ngr_t.depth--;
        errno = saved;
    }
    return si.fn(si.arg);
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!ngr_on() || ngr_t.depth)
        return REAL(pthread_create)(th, attr, fn, arg);
    int saved = errno;
    ngr_t.depth++;
    struct start_info *si = malloc(sizeof *si);
    if (si) {
        pthread_once(&end_key_once, make_end_key);
        ngr_my_stream(); /* the parent has a number before its child */
        *si = (struct start_info){fn, arg, ngr_new_thread_num(), ngr_t.num};
    }
    /* SPAWN's sequence number is taken before the child can write BEGIN. */
    uint64_t seq = ngr_next_seq();
    ngr_t.depth--;
    errno = saved;
    if (!si)
        return REAL(pthread_create)(th, attr, fn, arg);
    uint32_t num = si->num;
    int rc = REAL(pthread_create)(th, attr, thread_start, si);
    if (rc != 0) {
        free(si);
        return rc;
    }
    saved = errno;
    if (num < NGR_MAX_THREADS) {
        uintptr_t zero = 0;
        atomic_compare_exchange_strong(&ngr_g.streams[num].pthread, &zero, (uintptr_t)*th);
    }
    ngr_emit_thread(NGR_THR_SPAWN, num, 0, seq);
    errno = saved;
    return 0;
}

#define JOIN_HOOK(name, params, args)                                                              \
    int name params                                                                                \
    {                                                                                              \
        if (!ngr_on() || ngr_t.depth)                                                              \
            return REAL(name) args;                                                                \
        uint32_t num = ngr_thread_of(th);                                                          \
        int rc = REAL(name) args;                                                                  \
        if (rc == 0) {                                                                             \
            int saved = errno;                                                                     \
            ngr_emit_thread(NGR_THR_JOIN, num, 0, 0);                                              \
            ngr_thread_forget(num);                                                                \
            errno = saved;                                                                         \
        }                                                                                          \
        return rc;                                                                                 \
    }

JOIN_HOOK(pthread_join, (pthread_t th, void **ret), (th, ret))
JOIN_HOOK(pthread_tryjoin_np, (pthread_t th, void **ret), (th, ret))
JOIN_HOOK(pthread_timedjoin_np, (pthread_t th, void **ret, const struct timespec *t), (th, ret, t))

int pthread_detach(pthread_t th)
{
    if (!ngr_on() || ngr_t.depth)
        return REAL(pthread_detach)(th);
    uint32_t num = ngr_thread_of(th);
    int rc = REAL(pthread_detach)(th);
    if (rc == 0) {
        int saved = errno;
        ngr_emit_thread(NGR_THR_DETACH, num, 0, 0);
        errno = saved;
    }
    return rc;
}

#pragma GCC visibility pop
