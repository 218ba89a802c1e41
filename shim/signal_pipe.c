/* Signals as bytes on a pipe, for a daemon's poll loop. The handler only write()s the signal's
   number, which is async-signal-safe (no Swift runtime, no lock, no global that a drain
   clears): every signal is a byte until the loop reads it, so none is lost between two
   drains (unless 64 KiB of them wait unread). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "swsgi.h"

static int write_end = -1;

static void on_signal(int number)
{
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    ssize_t written = write(write_end, &byte, 1);
    (void)written; /* a full pipe: the loop has plenty to read already */
    errno = saved;
}

int swsgi_signal_pipe(const int *signals, int count)
{
    int fds[2];
    if (write_end >= 0 || pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    write_end = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0)
            return -1;
        sigaddset(&set, signals[i]);
    }
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? fds[0] : -1;
}
