public enum ProtocolError: Error, Equatable {
    /// The peer closed the connection at a frame boundary: the normal end of a connection.
    case closed
    /// A read or write waited longer than the channel's timeout.
    case timedOut
    /// The bytes do not follow the protocol; the connection cannot be trusted any further.
    case malformed(String)
    /// A system call failed with this errno.
    case system(Int32)
}
