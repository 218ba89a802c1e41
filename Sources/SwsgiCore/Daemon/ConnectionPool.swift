import Glibc
import SwsgiABI
import SwsgiProtocol

/// An Apache child's idle connections to each daemon group, reused across requests.
final class ConnectionPool {
    private let lock = Lock()
    private var idle: [Int: [FrameChannel]] = [:]

    func take(_ group: Int) -> FrameChannel? {
        lock.lock()
        defer { lock.unlock() }
        return idle[group]?.popLast()
    }

    func give(_ channel: FrameChannel, to group: Int) {
        lock.lock()
        defer { lock.unlock() }
        idle[group, default: []].append(channel)
    }

    /// A new connection to the group's socket, retried while the socket is missing or refuses
    /// (a restart in progress) until connect-timeout; nil with errno set when that passed.
    static func connect(_ plan: GroupPlan) -> FrameChannel? {
        let deadline = monotonicSeconds() + Double(max(1, plan.config.connectTimeout))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            plan.socketPath.utf8.prefix(raw.count - 1).enumerated().forEach { raw[$0.offset] = $0.element }
        }
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return nil }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if connected == 0 {
                return FrameChannel(fd: fd, timeoutMilliseconds: plan.socketTimeoutMilliseconds)
            }
            let error = errno
            close(fd)
            guard [ENOENT, ECONNREFUSED, EAGAIN, EINTR].contains(error), monotonicSeconds() < deadline else {
                errno = error
                return nil
            }
            usleep(50_000)
        }
    }
}
