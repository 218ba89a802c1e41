import Glibc

/// Peer credentials of a connected Unix socket (SO_PEERCRED), so a daemon can refuse
/// connections that are not from Apache's user.
public func peerCredentials(_ fd: Int32) -> (pid: Int32, uid: UInt32, gid: UInt32)? {
    // `struct ucred` is hidden behind _GNU_SOURCE in the Glibc module; this is its layout.
    var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
    var size = socklen_t(MemoryLayout.size(ofValue: credentials))
    guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0,
          size == socklen_t(MemoryLayout.size(ofValue: credentials)) else { return nil }
    return credentials
}
