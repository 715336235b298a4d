/* signals.c — fatal signals: leave a note in the trace, then hand over unchanged.
 *
 * The trace data is already in the page cache (shared file mappings), so nothing needs flushing.
 * The handler notes the signal in the metadata stream if it can do so without waiting (the
 * crashing thread may hold the metadata lock itself), then puts back the disposition that was
 * installed before ours (faulthandler's, for instance, or the default action) and has the signal
 * delivered to it in the interrupted context, so the program's output and exit status stay what
 * they would have been without us.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
#define N_FATAL (sizeof fatal / sizeof fatal[0])
static struct sigaction previous[N_FATAL];
static uint32_t note_str[N_FATAL];

static int slot_of(int sig)
{
    for (unsigned i = 0; i < N_FATAL; i++)
        if (fatal[i] == sig)
            return (int)i;
    return -1;
}

static void on_fatal(int sig, siginfo_t *info, void *ucontext)
{
    (void)ucontext; /* the restored handler gets the real one, from its own delivery */
    int saved = errno;
    int k = slot_of(sig);
    if (k < 0)
        return;
    if (ngr_on() && note_str[k] && ngr_meta_trylock()) {
        uint64_t w[2] = {ngr_word0(NGR_OP_NOTE, 2, NGR_NOTE_WARNING, 0), note_str[k]};
        ngr_t.depth++;
        ngr_meta_write_locked(w, 2);
        ngr_t.depth--;
        ngr_meta_unlock();
    }
    /* Hand over: put the previous disposition back and let it act as if we were never here —
     * also without a frame of ours under its handler (3.14's faulthandler prints the C stack).
     * A fault re-executes the faulting instruction when we return and is delivered to the
     * restored disposition then; a signal that was sent (kill, raise, abort) is made pending
     * again, blocked until we return: the interrupted context's mask comes back with the return,
     * and the signal is delivered in that context. */
    struct sigaction prev = previous[k];
    sigaction(sig, &prev, NULL);
    errno = saved;
    if (info->si_code > 0 && sig != SIGABRT)
        return;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
    raise(sig);
    errno = saved;
}

void ngr_signals_install(void)
{
    for (unsigned i = 0; i < N_FATAL; i++) {
        char msg[64] = "fatal signal ";
        const char *name = sigabbrev_np(fatal[i]);
        strcat(msg, "SIG");
        strcat(msg, name ? name : "?");
        ngr_meta_lock();
        ngr_t.depth++;
        note_str[i] = ngr_intern_locked(msg, strlen(msg));
        ngr_t.depth--;
        ngr_meta_unlock();
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal[i], &sa, &previous[i]);
    }
}
