/* How each daemon process ended. Apache reaps its children itself and tells the other-child
   callback only a decoded number (the exit code, or the signal), in which os._exit(1) and
   SIGHUP look alike. A SIGCHLD handler in the parent reads the full wait status of each
   watched daemon without reaping it (WNOWAIT), before Apache's reaping loop gets to it; the
   callback then takes it from here. Async-signal-safe: fixed slots and atomics only. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include "shim.h"

#define WATCHED 1024

static _Atomic int watched[WATCHED];  /* pid; 0: a free slot */
static _Atomic int ended[WATCHED];    /* 1 + the wait status once seen; 0 before */
static struct sigaction previous;

static int wait_status(const siginfo_t *info)
{
    switch (info->si_code) {
    case CLD_EXITED: return (info->si_status & 0xff) << 8;
    case CLD_DUMPED: return (info->si_status & 0x7f) | 0x80;
    default: return info->si_status & 0x7f;
    }
}

static void on_child(int number, siginfo_t *info, void *context)
{
    int saved = errno;
    for (int i = 0; i < WATCHED; i++) {
        int pid = atomic_load(&watched[i]);
        if (pid <= 0 || atomic_load(&ended[i]))
            continue;
        siginfo_t seen;
        memset(&seen, 0, sizeof seen);
        if (waitid(P_PID, pid, &seen, WEXITED | WNOHANG | WNOWAIT) == 0 && seen.si_pid == pid)
            atomic_store(&ended[i], 1 + wait_status(&seen));
    }
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction)
            previous.sa_sigaction(number, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(number);
    }
    errno = saved;
}

static int installed(void)
{
    struct sigaction current;
    return sigaction(SIGCHLD, NULL, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
           current.sa_sigaction == on_child;
}

void swsgi_exit_watch(int pid)
{
    /* Checked each time: a restart of Apache may have put another handler in place. */
    if (!installed()) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_child;
        action.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
        sigemptyset(&action.sa_mask);
        sigaction(SIGCHLD, &action, &previous);
    }
    for (int i = 0; i < WATCHED; i++) {
        if (atomic_load(&watched[i]) == 0) {
            atomic_store(&ended[i], 0);
            atomic_store(&watched[i], pid);
            return;
        }
    }
}

int swsgi_exit_status(int pid)
{
    for (int i = 0; i < WATCHED; i++) {
        if (atomic_load(&watched[i]) == pid) {
            int seen = atomic_load(&ended[i]);
            atomic_store(&watched[i], 0);
            return seen - 1;
        }
    }
    return -1;
}

void swsgi_exit_unwatch_in_child(void)
{
    if (installed())
        sigaction(SIGCHLD, &previous, NULL);
}
