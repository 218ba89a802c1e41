import Glibc
import SwsgiABI
import SwsgiConfig

/// The Apache parent's side of daemon mode, as mod_wsgi does it: the parent binds each
/// group's socket and forks the group's processes itself; Apache reaps them, tells us when one
/// died (we start its replacement, later and later while it keeps crashing) and stops them
/// with the generation. No extra process stands between Apache and its daemons.
enum DaemonSpawner {
    private struct Slot {
        let group: Int
        /// Its slot in the metrics region, kept by its successive processes.
        let metrics: Int32
        var pid: pid_t = 0
        var started = 0.0
        var quickFailures = 0
    }

    nonisolated(unsafe) private static var slots: [Slot] = []
    nonisolated(unsafe) private static var global = GlobalSettings()
    nonisolated(unsafe) private static var spawned: (@convention(c) (Int32) -> Void)?

    /// post_config: sockets, then every process of every group. The number of processes
    /// started, or -1 when a socket could not be made (logged).
    static func start(_ configuration: Configuration, spawned: (@convention(c) (Int32) -> Void)?) -> Int32 {
        self.spawned = spawned
        global = configuration.global
        slots = []
        var failed = false
        for i in DaemonGroups.groups.indices {
            if DaemonGroups.groups[i].listener >= 0 {
                // Taken over from the previous generation: only the backlog may have changed.
                _ = listen(DaemonGroups.groups[i].listener, Int32(DaemonGroups.groups[i].config.listenBacklog))
            } else {
                guard let fd = DaemonSocket.listen(DaemonGroups.groups[i]) else { failed = true; continue }
                DaemonGroups.groups[i].listener = fd
            }
            swsgi_metrics_group(Int32(i + 1), DaemonGroups.groups[i].config.name)
            for _ in 0..<DaemonGroups.groups[i].config.processes { slots.append(Slot(group: i, metrics: Int32(slots.count))) }
        }
        for i in slots.indices { spawn(&slots[i], after: 0) }
        return failed ? -1 : Int32(slots.count)
    }

    /// A daemon process died: says how, and starts its replacement at once after a planned
    /// exit or a long life; one that keeps crashing waits longer each time before it starts.
    static func died(_ pid: pid_t, status: Int32) {
        guard let i = slots.firstIndex(where: { $0.pid == pid }) else {
            // One of a generation that ended: it had its requests to finish, not replaced.
            Apache.log(nil, SWSGI_LOG_INFO, "swsgi: daemon process \(pid) of an earlier generation \(describeWaitStatus(status))")
            return
        }
        let name = DaemonGroups.groups[slots[i].group].config.name
        swsgi_metrics_daemon_died(slots[i].metrics, status)
        let planned = status == 0
        if planned || monotonicSeconds() - slots[i].started > 10 { slots[i].quickFailures = 0 } else { slots[i].quickFailures += 1 }
        let delay = slots[i].quickFailures == 0 ? 0 : min(30, 0.1 * Double(1 << min(slots[i].quickFailures - 1, 9)))
        Apache.log(nil, planned ? SWSGI_LOG_INFO : SWSGI_LOG_ERR, "swsgi: daemon process \(pid) of group '\(name)' \(describeWaitStatus(status)); "
                   + (delay > 0 ? "restarting it in \(delay) s" : "restarting it"))
        spawn(&slots[i], after: delay)
    }

    /// The generation ends: its processes are told to stop (SIGTERM), which each does within
    /// its shutdown-timeout, and the sockets are handed over to the next generation. Apache
    /// reaps the processes as they go; when it is exiting (waiting), nobody would: the sockets
    /// go, and we wait for the processes, killing those that overstay.
    static func stop(waiting: Bool) {
        for plan in DaemonGroups.groups where plan.listener >= 0 {
            DaemonGroups.handedOver[plan.config.name] = (plan.socketPrefix, plan.socketPath, plan.listener)
        }
        if waiting { DaemonGroups.closeHandedOver() }
        var left = slots.map(\.pid).filter { $0 > 0 }
        left.forEach { kill($0, SIGTERM) }
        let deadline = monotonicSeconds() + Double(DaemonGroups.groups.map(\.config.shutdownTimeout).max() ?? 0) + 1
        while waiting, !left.isEmpty {
            left = left.filter { waitpid($0, nil, WNOHANG) == 0 }
            if monotonicSeconds() >= deadline {
                left.forEach { kill($0, SIGKILL); waitpid($0, nil, 0) }
                break
            }
            usleep(10_000)
        }
        DaemonGroups.groups = []
        slots = []
    }

    /// In an Apache child: the listening sockets are the daemons' business.
    static func closeListeners() {
        for plan in DaemonGroups.groups where plan.listener >= 0 { close(plan.listener) }
    }

    private static func spawn(_ slot: inout Slot, after delay: Double) {
        let plan = DaemonGroups.groups[slot.group]
        let parent = getpid()
        let pid = fork()
        if pid == 0 {
            Apache.io.after_fork?()
            // Apache's handlers would make a SIGTERM here (the generation ending) go unheard.
            SelfPipe.resetSignals()
            if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
            swsgi_metrics_daemon_start(slot.metrics, Int32(plan.index + 1), Int32(max(1, plan.config.threads)))
            DaemonMain.run(plan, parent: parent, global: global)
        }
        if pid < 0 {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: cannot fork a process of daemon group '\(plan.config.name)': \(String(cString: strerror(errno)))")
            return
        }
        slot.pid = pid
        slot.started = monotonicSeconds() + delay
        spawned?(pid)
        Apache.log(nil, SWSGI_LOG_INFO, "swsgi: started daemon process \(pid) of group '\(plan.config.name)'")
    }
}
