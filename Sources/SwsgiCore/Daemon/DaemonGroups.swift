import Glibc
import SwsgiConfig

/// The daemon process groups of this Apache generation, with their socket paths. Planned in
/// the parent's post_config; Apache's children inherit the plan through fork and connect to
/// the paths; the parent and the daemons hold the listening sockets.
struct GroupPlan {
    let index: Int
    let config: DaemonProcess
    let socketPath: String
    let socketPrefix: String
    /// The scripts each process loads, and the ASGI apps it starts, before it takes requests.
    let preloads: [ScriptPreload]
    var listener: Int32 = -1

    /// Who may connect: the socket's owner (socket-user=, else Apache's User).
    var socketOwner: uid_t { config.socketUID.map { uid_t($0) } ?? DaemonGroups.apacheUID }

    /// socket-timeout, by default Apache's Timeout: how long one read or write on a daemon
    /// connection may wait.
    var socketTimeoutMilliseconds: Int32 {
        Int32(min(config.socketTimeout > 0 ? config.socketTimeout : DaemonGroups.apacheTimeout, 2_000_000) * 1000)
    }
}

enum DaemonGroups {
    nonisolated(unsafe) static var groups: [GroupPlan] = []
    nonisolated(unsafe) static var apacheUID: uid_t = 0
    nonisolated(unsafe) static var apacheGID: gid_t = 0
    /// Apache's Timeout, in seconds; set by plan, before any connection exists.
    nonisolated(unsafe) static var apacheTimeout = 0
    nonisolated(unsafe) private static var generation = 0

    /// The listening sockets of the generation that ended, by group name, for the next one
    /// to take over: Apache children of the old generation still send requests to their
    /// paths, and so reach the new daemons (the backlog holds them meanwhile).
    nonisolated(unsafe) static var handedOver: [String: (prefix: String, path: String, fd: Int32)] = [:]

    /// Socket names as mod_wsgi's: <prefix>.<parent pid>.<generation>.<group number>.sock; a
    /// group that was in the previous generation keeps its socket.
    static func plan(_ configuration: Configuration, defaultPrefix: String, uid: uid_t, gid: gid_t, apacheTimeout: Int) {
        let global = configuration.global
        let prefix = global.socketPrefix ?? defaultPrefix
        // User and Group only take effect when Apache starts as root; otherwise its children
        // run as the user who started it (and User may be unset: -1).
        apacheUID = geteuid() == 0 ? uid : geteuid()
        apacheGID = geteuid() == 0 ? gid : getegid()
        self.apacheTimeout = max(1, apacheTimeout)
        groups = global.daemons.enumerated().map { index, daemon in
            let preloads = configuration.scriptPreloads(group: .named(daemon.name))
            if let old = handedOver.removeValue(forKey: daemon.name), old.prefix == prefix {
                return GroupPlan(index: index, config: daemon, socketPath: old.path, socketPrefix: prefix, preloads: preloads, listener: old.fd)
            }
            return GroupPlan(index: index, config: daemon, socketPath: "\(prefix).\(getpid()).\(generation).\(index + 1).sock",
                             socketPrefix: prefix, preloads: preloads)
        }
        closeHandedOver()
        generation += 1
    }

    /// Sockets no group took over (or all, when Apache exits) are closed and removed.
    static func closeHandedOver() {
        for old in handedOver.values {
            close(old.fd)
            unlink(old.path)
        }
        handedOver = [:]
    }

    /// Where the group called name is in `groups`: an index, as returning the plan would copy
    /// it (and retain each of its configuration's strings) on every request.
    static func index(named name: String) -> Int? {
        groups.firstIndex { $0.config.name == name }
    }
}
