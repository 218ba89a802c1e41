import Glibc
import SwsgiABI
import SwsgiConfig

/// One process per Apache generation, forked from the parent: it binds the groups' sockets,
/// forks their daemon processes and keeps them running — a daemon that exits is started again
/// at once, one that keeps crashing with a growing delay. On SIGTERM (Apache stopping or
/// restarting) it stops its daemons, gracefully first, and removes the sockets.
enum Supervisor {
    private struct Slot {
        let group: Int
        var pid: pid_t = 0
        var started = 0.0
        var quickFailures = 0
        var restartAt: Double?
    }

    /// In the parent: forks the supervisor; its pid, 0 with no groups, -1 on failure.
    static func start(_ configuration: Configuration) -> pid_t {
        guard !DaemonGroups.groups.isEmpty else { return 0 }
        let pid = fork()
        if pid < 0 {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: cannot fork the daemon process supervisor: \(String(cString: strerror(errno)))")
            return -1
        }
        if pid > 0 { return pid }
        Apache.io.after_fork?()
        SelfPipe.resetSignals()
        SelfPipe.install([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD])
        setProcessTitle("swsgi-supervisor")
        run(configuration.global)
    }

    private static func run(_ global: GlobalSettings) -> Never {
        for i in DaemonGroups.groups.indices {
            guard let fd = listen(DaemonGroups.groups[i]) else { continue }
            DaemonGroups.groups[i].listener = fd
        }
        var slots: [Slot] = []
        for plan in DaemonGroups.groups where plan.listener >= 0 {
            for _ in 0..<plan.config.processes { slots.append(Slot(group: plan.index)) }
        }
        for i in slots.indices { spawn(&slots[i], global) }
        while true {
            var status: Int32 = 0
            while case let pid = waitpid(-1, &status, WNOHANG), pid > 0 {
                guard let i = slots.firstIndex(where: { $0.pid == pid }) else { continue }
                died(&slots[i], status: status)
            }
            let now = monotonicSeconds()
            for i in slots.indices where slots[i].restartAt.map({ $0 <= now }) == true { spawn(&slots[i], global) }
            let next = slots.compactMap(\.restartAt).min().map { max(0, $0 - now) } ?? 1
            var waiter = pollfd(fd: SelfPipe.fds[0], events: Int16(POLLIN), revents: 0)
            _ = poll(&waiter, 1, Int32(min(next, 1) * 1000) + 1)
            let seen = SelfPipe.drain()
            if SelfPipe.saw(SIGTERM, in: seen) || SelfPipe.saw(SIGINT, in: seen) || SelfPipe.saw(SIGHUP, in: seen) {
                stop(slots)
            }
            if SelfPipe.saw(SIGUSR1, in: seen) {
                for slot in slots where slot.pid > 0 { kill(slot.pid, SIGUSR1) }
            }
        }
    }

    private static func spawn(_ slot: inout Slot, _ global: GlobalSettings) {
        let plan = DaemonGroups.groups[slot.group]
        let supervisor = getpid()
        let pid = fork()
        if pid == 0 { DaemonMain.run(plan, supervisor: supervisor, global: global) }
        slot.restartAt = nil
        if pid < 0 {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: cannot fork a process of daemon group '\(plan.config.name)': \(String(cString: strerror(errno)))")
            slot.restartAt = monotonicSeconds() + 1
            return
        }
        slot.pid = pid
        slot.started = monotonicSeconds()
        Apache.log(nil, SWSGI_LOG_INFO, "swsgi: started daemon process \(pid) of group '\(plan.config.name)'")
    }

    /// Restarts at once after a planned exit or a long life; backs off when it keeps crashing.
    private static func died(_ slot: inout Slot, status: Int32) {
        let name = DaemonGroups.groups[slot.group].config.name
        let lived = monotonicSeconds() - slot.started
        let planned = status == 0
        if planned || lived > 10 { slot.quickFailures = 0 } else { slot.quickFailures += 1 }
        let delay = slot.quickFailures == 0 ? 0 : min(30, 0.1 * Double(1 << min(slot.quickFailures - 1, 9)))
        let level = planned ? SWSGI_LOG_INFO : SWSGI_LOG_ERR
        Apache.log(nil, level, "swsgi: daemon process \(slot.pid) of group '\(name)' \(describeWaitStatus(status)); "
                   + (delay > 0 ? "restarting it in \(delay) s" : "restarting it"))
        slot.pid = 0
        slot.restartAt = monotonicSeconds() + delay
    }

    /// SIGTERM to every daemon, SIGKILL to what is left after 2.5 s (Apache kills this
    /// process itself after 3 s), then the sockets go.
    private static func stop(_ slots: [Slot]) -> Never {
        var alive = Set(slots.map(\.pid).filter { $0 > 0 })
        for pid in alive { kill(pid, SIGTERM) }
        let deadline = monotonicSeconds() + 2.5
        while !alive.isEmpty && monotonicSeconds() < deadline {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { alive.remove(pid) } else if pid < 0 { break } else { usleep(20_000) }
        }
        for pid in alive { kill(pid, SIGKILL) }
        for pid in alive { var status: Int32 = 0; waitpid(pid, &status, 0) }
        for plan in DaemonGroups.groups { unlink(plan.socketPath) }
        _exit(0)
    }

    /// The group's listening socket, reachable by Apache's user only (mode 0700).
    private static func listen(_ plan: GroupPlan) -> Int32? {
        let path = plan.socketPath
        func failure(_ what: String) -> Int32? {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(plan.config.name)': cannot \(what) socket '\(path)': \(String(cString: strerror(errno)))")
            return nil
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(plan.config.name)': socket path '\(path)' is longer than \(capacity - 1) bytes; shorten WSGISocketPrefix")
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8.enumerated().forEach { raw[$0.offset] = $0.element }
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty, access(directory, F_OK) != 0 { mkdir(directory, 0o755) }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        if fd < 0 { return failure("create") }
        let mask = umask(0o077)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(mask)
        if bound != 0 { close(fd); return failure("bind") }
        if Glibc.listen(fd, Int32(plan.config.listenBacklog)) != 0 { close(fd); return failure("listen on") }
        if geteuid() == 0, chown(path, DaemonGroups.apacheUID, gid_t.max) != 0 { close(fd); return failure("chown") }
        return fd
    }
}
