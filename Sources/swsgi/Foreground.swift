import CLinux
import Glibc

/// Runs Apache in the foreground (-DFOREGROUND) until it exits or this process gets SIGINT
/// (Ctrl-C), SIGTERM or SIGHUP, which stop Apache as `apachectl stop` would: its parent gets
/// SIGTERM and takes its children and daemon processes down with it. Apache runs in a process
/// group of its own, so that Ctrl-C reaches only this process, which then stops it in order;
/// it also gets SIGTERM should this process die. A second signal kills Apache's process group.
/// Returns whether a signal stopped it, and Apache's exit status.
func runInForeground(apache: String, config: String) -> (stopped: Bool, status: Int32) {
    var signals = sigset_t()
    sigemptyset(&signals)
    for signal in [SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&signals, signal) }
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &signals, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

    let argv = CStrings([apache, "-f", config, "-DFOREGROUND"])
    let parent = getpid()
    let child = fork()
    if child == 0 {
        setpgid(0, 0)
        _ = swsgi_prctl(PR_SET_PDEATHSIG, UInt(SIGTERM))
        if getppid() != parent { _exit(1) }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        execv(argv.pointers[0]!, argv.pointers)
        _exit(127)
    }
    guard child > 0 else { return (false, 1) }
    var stopped = false
    while true {
        var received: Int32 = 0
        guard sigwait(&signals, &received) == 0 else { continue }
        if received == SIGCHLD {
            var status: Int32 = 0
            let done = waitpid(child, &status, WNOHANG)
            guard done == child else { continue }
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return (stopped, code)
        }
        if !stopped {
            stopped = true
            kill(child, SIGTERM)
        } else {
            kill(-child, SIGKILL)  // a second Ctrl-C: Apache's whole process group, at once
        }
    }
}
