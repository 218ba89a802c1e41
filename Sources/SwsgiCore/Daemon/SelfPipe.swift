import Glibc
import SwsgiABI

/// Signals as bytes on a pipe, so that a poll loop can wait for them and for sockets alike.
/// The handlers are C (`swsgi_signal_pipe`): a signal handler must not run Swift code.
enum SelfPipe {
    /// The read end; -1 when the handlers could not be installed.
    nonisolated(unsafe) private(set) static var fd: Int32 = -1

    static func install(_ signals: [Int32]) {
        fd = swsgi_signal_pipe(signals, Int32(signals.count))
        if fd < 0 {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: cannot install the daemon's signal handlers: \(String(cString: strerror(errno)))")
        }
    }

    /// The signals that arrived since the last call: each byte read is one.
    static func drain() -> Set<Int32> {
        var seen = Set<Int32>()
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return seen }
            for byte in buffer.prefix(count) { seen.insert(Int32(byte)) }
        }
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
