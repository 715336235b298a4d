/* sigbus.c — see sigbus.h. */
#include "sigbus.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct watch {
    const unsigned char *base;   /* NULL: free slot; set last (release), read first (acquire) */
    size_t size;
    volatile sig_atomic_t hit;
    size_t first_fault;          /* offset of the first fault, set with hit */
};

static struct watch watches[NGR_SIGBUS_MAX];
static size_t page_size;
static bool installed;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    uintptr_t a = (uintptr_t)si->si_addr;
    for (size_t i = 0; i < NGR_SIGBUS_MAX; i++) {
        const unsigned char *b = __atomic_load_n(&watches[i].base, __ATOMIC_ACQUIRE);
        if (!b || a < (uintptr_t)b || a - (uintptr_t)b >= watches[i].size)
            continue;
        /* mmap is a plain system call here (async-signal-safe in practice, as systemd's journal
         * reader relies on for the same repair); the new page replaces the lost one atomically. */
        void *page = (void *)(a & ~(uintptr_t)(page_size - 1));
        void *p = mmap(page, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED)
            break; /* cannot repair it: die of the signal as before */
        uint64_t *q = p;
        for (size_t k = 0; k < page_size / 8; k++)
            q[k] = NGR_SIGBUS_FILLER_WORD;
        mprotect(p, page_size, PROT_READ);
        if (!watches[i].hit)
            watches[i].first_fault = a - (uintptr_t)b;
        watches[i].hit = 1;
        errno = saved;
        return;
    }
    /* Not a watched mapping: let the fault repeat with the default action. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    errno = saved;
}

static void install(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    installed = true;
}

bool ngr_sigbus_watch(const void *base, size_t size)
{
    if (!installed)
        install();
    for (size_t i = 0; i < NGR_SIGBUS_MAX; i++) {
        if (watches[i].base)
            continue;
        watches[i].size = size;
        watches[i].hit = 0;
        watches[i].first_fault = 0;
        __atomic_store_n(&watches[i].base, (const unsigned char *)base, __ATOMIC_RELEASE);
        return true;
    }
    return false;
}

void ngr_sigbus_unwatch(const void *base)
{
    for (size_t i = 0; i < NGR_SIGBUS_MAX; i++)
        if (watches[i].base == base) {
            __atomic_store_n(&watches[i].base, NULL, __ATOMIC_RELEASE);
            watches[i].hit = 0;
            return;
        }
}

size_t ngr_sigbus_first_fault(const void *base)
{
    for (size_t i = 0; i < NGR_SIGBUS_MAX; i++)
        if (watches[i].base == base)
            return watches[i].hit ? watches[i].first_fault : 0;
    return 0;
}

bool ngr_sigbus_hit(const void *base)
{
    for (size_t i = 0; i < NGR_SIGBUS_MAX; i++)
        if (watches[i].base == base)
            return watches[i].hit != 0;
    return false;
}
