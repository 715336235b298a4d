/* hook_sync.c — pthread mutexes, rwlocks, semaphores and condition variables of native code.
 *
 * Thin wrappers: PRE event, real call, POST event with the result.  Acquisitions are recorded
 * after success, releases before they happen.  Only calls from the program's native code are
 * recorded (caller.c says why); everything else, and every call before activation or from inside
 * the shim, goes straight to the real function.
 */
#include "ngr_internal.h"

#include <errno.h>

/* The libc/pthread symbols defined here are the shim's interface to the program. */
#pragma GCC visibility push(default)

#define REAL(name) (real_##name ? real_##name : (ngr_real_resolve(), real_##name))
/* A macro, so that the return address is the hook's own caller. */
#define TRACED() (NGR_UNLIKELY(ngr_on()) && !ngr_t.depth && ngr_caller_traced(__builtin_return_address(0)))

#define MUTEX NGR_SOBJ_PTHREAD_MUTEX
#define RWLOCK NGR_SOBJ_PTHREAD_RWLOCK
#define SEM NGR_SOBJ_PTHREAD_SEM
#define COND NGR_SOBJ_PTHREAD_COND

/* ---- mutexes -------------------------------------------------------------------------------- */

/* The shape of every "record it once it succeeded" hook: the real call, then `on_success` when it
 * returned 0.  Untraced threads (and re-entered calls) go straight through. */
#define AFTER_SUCCESS_HOOK(name, params, args, on_success)                                         \
    int name params                                                                                \
    {                                                                                              \
        if (!TRACED())                                                                             \
            return REAL(name) args;                                                                \
        int rc = REAL(name) args;                                                                  \
        if (rc == 0)                                                                               \
            on_success;                                                                            \
        return rc;                                                                                 \
    }

#define LOCK_HOOK(name, params, args)                                                              \
    AFTER_SUCCESS_HOOK(name, params, args, ngr_emit_pthread_sync(NGR_SYNC_ACQUIRE, m, MUTEX))

LOCK_HOOK(pthread_mutex_lock, (pthread_mutex_t * m), (m))
LOCK_HOOK(pthread_mutex_trylock, (pthread_mutex_t * m), (m))
LOCK_HOOK(pthread_mutex_timedlock, (pthread_mutex_t * m, const struct timespec *t), (m, t))
LOCK_HOOK(pthread_mutex_clocklock, (pthread_mutex_t * m, clockid_t c, const struct timespec *t),
          (m, c, t))

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_RELEASE, m, MUTEX);
    return REAL(pthread_mutex_unlock)(m);
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_FREE, m, MUTEX);
    return REAL(pthread_mutex_destroy)(m);
}

/* ---- rwlocks -------------------------------------------------------------------------------- */

/* Which rwlocks this thread holds for reading: unlock does not say which kind it releases. */
static void rd_push(const void *l)
{
    if (ngr_t.n_rd < NGR_MAX_RDLOCKS)
        ngr_t.rd[ngr_t.n_rd++] = l;
}

static bool rd_pop(const void *l)
{
    for (int i = ngr_t.n_rd - 1; i >= 0; i--)
        if (ngr_t.rd[i] == l) {
            ngr_t.rd[i] = ngr_t.rd[--ngr_t.n_rd];
            return true;
        }
    return false;
}

static void rw_acquired(unsigned kind, const void *l)
{
    if (kind == NGR_SYNC_RD_ACQUIRE)
        rd_push(l);
    ngr_emit_pthread_sync(kind, l, RWLOCK);
}

#define RW_HOOK(name, kind, params, args) AFTER_SUCCESS_HOOK(name, params, args, rw_acquired(kind, l))

RW_HOOK(pthread_rwlock_rdlock, NGR_SYNC_RD_ACQUIRE, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_tryrdlock, NGR_SYNC_RD_ACQUIRE, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_timedrdlock, NGR_SYNC_RD_ACQUIRE,
        (pthread_rwlock_t * l, const struct timespec *t), (l, t))
RW_HOOK(pthread_rwlock_clockrdlock, NGR_SYNC_RD_ACQUIRE,
        (pthread_rwlock_t * l, clockid_t c, const struct timespec *t), (l, c, t))
RW_HOOK(pthread_rwlock_clockwrlock, NGR_SYNC_ACQUIRE,
        (pthread_rwlock_t * l, clockid_t c, const struct timespec *t), (l, c, t))
RW_HOOK(pthread_rwlock_wrlock, NGR_SYNC_ACQUIRE, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_trywrlock, NGR_SYNC_ACQUIRE, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_timedwrlock, NGR_SYNC_ACQUIRE,
        (pthread_rwlock_t * l, const struct timespec *t), (l, t))

int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    if (TRACED())
        ngr_emit_pthread_sync(rd_pop(l) ? NGR_SYNC_RD_RELEASE : NGR_SYNC_RELEASE, l, RWLOCK);
    return REAL(pthread_rwlock_unlock)(l);
}

int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_FREE, l, RWLOCK);
    return REAL(pthread_rwlock_destroy)(l);
}

/* ---- semaphores: post happens before the wait it satisfies ---------------------------------- */

#define SEM_WAIT_HOOK(name, params, args)                                                          \
    AFTER_SUCCESS_HOOK(name, params, args, ngr_emit_pthread_sync(NGR_SYNC_RECV, s, SEM))

SEM_WAIT_HOOK(sem_wait, (sem_t * s), (s))
SEM_WAIT_HOOK(sem_trywait, (sem_t * s), (s))
SEM_WAIT_HOOK(sem_timedwait, (sem_t * s, const struct timespec *t), (s, t))
SEM_WAIT_HOOK(sem_clockwait, (sem_t * s, clockid_t c, const struct timespec *t), (s, c, t))

int sem_post(sem_t *s)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_SEND, s, SEM);
    return REAL(sem_post)(s);
}

int sem_destroy(sem_t *s)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_FREE, s, SEM);
    return REAL(sem_destroy)(s);
}

/* ---- condition variables -------------------------------------------------------------------- */

/* wait releases the mutex and takes it back; a wake-up is ordered after the signal. */
#define COND_WAIT_HOOK(name, params, args)                                                         \
    int name params                                                                                \
    {                                                                                              \
        if (!TRACED())                                                                             \
            return REAL(name) args;                                                                \
        ngr_emit_pthread_sync(NGR_SYNC_RELEASE, m, MUTEX);                                         \
        int rc = REAL(name) args;                                                                  \
        if (rc == 0)                                                                               \
            ngr_emit_pthread_sync(NGR_SYNC_RECV, c, COND);                                         \
        ngr_emit_pthread_sync(NGR_SYNC_ACQUIRE, m, MUTEX);                                         \
        return rc;                                                                                 \
    }

COND_WAIT_HOOK(pthread_cond_wait, (pthread_cond_t * c, pthread_mutex_t * m), (c, m))
COND_WAIT_HOOK(pthread_cond_timedwait, (pthread_cond_t * c, pthread_mutex_t * m, const struct timespec *t),
               (c, m, t))

int pthread_cond_signal(pthread_cond_t *c)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_SEND, c, COND);
    return REAL(pthread_cond_signal)(c);
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
    if (TRACED())
        ngr_emit_pthread_sync(NGR_SYNC_SEND, c, COND);
    return REAL(pthread_cond_broadcast)(c);
}

#pragma GCC visibility pop
