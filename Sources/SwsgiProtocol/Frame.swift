// The unit of the daemon protocol: an 8-byte header
// `[u8 version][u8 type][u16 reserved = 0][u32 payload length, LE]`, then the payload.

/// The version this module speaks; a peer sending anything else is rejected, not guessed at.
public let protocolVersion: UInt8 = 1

/// Size of the fixed frame header.
public let frameHeaderSize = 8

/// Largest payload accepted (16 MiB): bounds what a confused or hostile peer can make us allocate.
public let maximumPayloadSize = 16 << 20

public enum FrameType: UInt8, Sendable {
    /// client→daemon: encoded strings, the CGI environ as key, value, key, value...
    case request = 1
    /// daemon→client: u32 LE max bytes wanted; the client answers with .body (≤ that, non-empty),
    /// .bodyEnd, or (to the first) .file: the body's next bytes, read ahead into that file.
    case readBody = 2
    /// client→daemon: a request body chunk; daemon→client: a response body chunk.
    case body = 3
    /// client→daemon: the request body is exhausted (empty payload).
    case bodyEnd = 4
    /// daemon→client: encoded strings, status line, name, value, name, value...
    case start = 5
    /// u64 LE offset, u64 LE length; an open descriptor rides along (SCM_RIGHTS). daemon→client:
    /// a response's file, for the child to send; client→daemon: part of the request body.
    case file = 6
    /// daemon→client: push what was sent so far to the HTTP client (empty payload).
    case flush = 7
    /// daemon→client: i32 LE result: 0 ok, >0 an HTTP status when nothing was sent, -1 broke after the headers.
    case end = 8
    /// daemon→client: this connection takes no more requests (the process is stopping); a
    /// request sent on it was not started and may be sent again on a new connection.
    case rejected = 9
    /// daemon→client: the app accepted a WebSocket: send the response head (.start, a 101)
    /// and answer with .socket (empty payload).
    case upgrade = 10
    /// client→daemon: the client connection's descriptor rides along (SCM_RIGHTS; over TLS,
    /// one end of a socket pair the child relays); the payload is what was read from it
    /// already. From here the daemon owns the connection.
    case socket = 11
}

public struct Frame {
    public let type: FrameType
    public var payload: [UInt8]
    /// The descriptor of a .file or .socket frame (nil otherwise). The receiver owns it and must close it.
    public var fd: Int32?

    public init(type: FrameType, payload: [UInt8], fd: Int32? = nil) {
        self.type = type
        self.payload = payload
        self.fd = fd
    }
}
