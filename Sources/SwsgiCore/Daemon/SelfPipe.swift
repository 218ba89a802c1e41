import Glibc

/// Signals as bytes on a pipe, so that a poll loop can wait for them and for sockets alike;
/// write() is one of the few things a signal handler may do.
enum SelfPipe {
    nonisolated(unsafe) static var fds: [Int32] = [-1, -1]
    /// Bit per signal seen since the last drain.
    nonisolated(unsafe) static var pending: UInt64 = 0

    static func install(_ signals: [Int32]) {
        var pair: [Int32] = [0, 0]
        pipe(&pair)
        for fd in pair {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        fds = pair
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                SelfPipe.pending |= 1 << UInt64(number)
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(SelfPipe.fds[1], &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Empties the pipe; the signals seen since the last call.
    static func drain() -> UInt64 {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(fds[0], &buffer, buffer.count) > 0 {}
        let seen = pending
        pending = 0
        return seen
    }

    static func saw(_ signal: Int32, in seen: UInt64) -> Bool {
        seen & (1 << UInt64(signal)) != 0
    }

    /// A forked process starts with Apache's handlers; put the defaults back.
    static func resetSignals() {
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE, SIGWINCH, SIGALRM] {
            Glibc.signal(signal, SIG_DFL)
        }
        Glibc.signal(SIGPIPE, SIG_IGN)
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
    }
}
