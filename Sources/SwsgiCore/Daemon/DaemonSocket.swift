import Glibc
import SwsgiABI

/// A daemon group's listening Unix socket.
enum DaemonSocket {
    /// The group's listening socket, reachable by its owner only (mode 0700): Apache's User, or
    /// socket-user=.
    static func listen(_ plan: GroupPlan) -> Int32? {
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
        if geteuid() == 0, chown(path, plan.socketOwner, gid_t.max) != 0 { close(fd); return failure("chown") }
        return fd
    }
}
