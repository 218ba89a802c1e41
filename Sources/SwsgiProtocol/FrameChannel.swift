// One end of a daemon connection: whole frames over a connected Unix stream socket, with
// blocking I/O bounded by an optional timeout. Used by one thread at a time.
import Glibc

public final class FrameChannel {
    /// The socket. The channel owns it: close() (or deinit) closes it.
    public let fd: Int32
    /// 0 waits forever; otherwise each blocking read or write waits at most this long and
    /// throws .timedOut. A timeout before a frame's first byte leaves the channel usable;
    /// after any other error, close it.
    public let timeoutMilliseconds: Int32
    /// The socket blocks and bounds each wait to read itself (SO_RCVTIMEO): a read that
    /// has to wait is one recvmsg, not a recvmsg that finds nothing, a poll and another.
    private let kernelReceiveTimeout: Bool

    // Reads land in this buffer so that many small frames cost one recvmsg.
    private static let bufferSize = 64 << 10
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FrameChannel.bufferSize, alignment: 8)
    private var start = 0, end = 0  // the unconsumed bytes are buffer[start..<end]

    // A .file frame's descriptor arrives with the frame's first byte, which may be read
    // together with earlier frames; it waits here until that frame is parsed.
    private var descriptors: [Int32] = []
    private static let maximumQueuedDescriptors = 4
    private var isClosed = false

    public init(fd: Int32, timeoutMilliseconds: Int32 = 0) {
        self.fd = fd
        self.timeoutMilliseconds = timeoutMilliseconds
        kernelReceiveTimeout = timeoutMilliseconds > 0 && fcntl(fd, F_GETFL) & O_NONBLOCK == 0
            && setReceiveTimeout(fd, milliseconds: timeoutMilliseconds)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Closes the socket and any descriptors received but not handed out. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        descriptors.forEach { _ = Glibc.close($0) }
        descriptors = []
        _ = Glibc.close(fd)
    }

    // MARK: Sending

    /// Sends one frame: header and payload in one sendmsg, looping on short writes and EINTR.
    public func send(_ type: FrameType, _ payload: UnsafeRawBufferPointer) throws(ProtocolError) {
        try send(type, payload, passing: nil)
    }

    public func send(_ type: FrameType, _ payload: [UInt8]) throws(ProtocolError) {
        try payload.withUnsafeBufferPointer { (payload) throws(ProtocolError) in
            try send(type, UnsafeRawBufferPointer(payload), passing: nil)
        }
    }

    /// Sends a .file frame with a duplicate of `fileDescriptor` (SCM_RIGHTS); the caller keeps its own.
    public func sendFile(_ fileDescriptor: Int32, offset: UInt64, length: UInt64) throws(ProtocolError) {
        try encodeFile(offset: offset, length: length).withUnsafeBufferPointer { (payload) throws(ProtocolError) in
            try send(.file, UnsafeRawBufferPointer(payload), passing: fileDescriptor)
        }
    }

    /// Sends a .socket frame with a duplicate of the client connection's `socket`.
    public func sendSocket(_ socket: Int32, pending: UnsafeRawBufferPointer) throws(ProtocolError) {
        try send(.socket, pending, passing: socket)
    }

    /// Appends a small frame to the outgoing queue instead of sending it: several frames of
    /// one response then leave in one system call. Sending anything else, or flush(), sends
    /// the queue first; so does queueing past `queueLimit` bytes.
    public func queue(_ type: FrameType, _ payload: UnsafeRawBufferPointer) throws(ProtocolError) {
        guard payload.count <= FrameChannel.queueLimit else { return try send(type, payload, passing: nil) }
        withUnsafeBytes(of: FrameChannel.header(type, payload.count)) { outgoing.append(contentsOf: $0) }
        outgoing.append(contentsOf: payload)
        if outgoing.count >= FrameChannel.queueLimit { try flush() }
    }

    public func queue(_ type: FrameType, _ payload: [UInt8]) throws(ProtocolError) {
        try payload.withUnsafeBufferPointer { (payload) throws(ProtocolError) in
            try queue(type, UnsafeRawBufferPointer(payload))
        }
    }

    /// Sends the queued frames.
    public func flush() throws(ProtocolError) {
        guard !outgoing.isEmpty else { return }
        defer { outgoing.removeAll(keepingCapacity: true) }
        try outgoing.withUnsafeBufferPointer { (queued) throws(ProtocolError) in
            try sendAll(fd, UnsafeRawBufferPointer(queued), UnsafeRawBufferPointer(start: nil, count: 0),
                        passing: nil, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    public static let queueLimit = 32 << 10
    private var outgoing: [UInt8] = []

    /// version | type << 8 | reserved (0) << 16 | length << 32, stored little-endian.
    private static func header(_ type: FrameType, _ length: Int) -> UInt64 {
        (UInt64(protocolVersion) | UInt64(type.rawValue) << 8 | UInt64(length) << 32).littleEndian
    }

    private func send(_ type: FrameType, _ payload: UnsafeRawBufferPointer, passing passedFd: Int32?) throws(ProtocolError) {
        guard payload.count <= maximumPayloadSize else {
            throw .malformed("payload of \(payload.count) bytes exceeds the \(maximumPayloadSize)-byte limit")
        }
        try flush()
        let header = FrameChannel.header(type, payload.count)
        try withUnsafeBytes(of: header) { (header) throws(ProtocolError) in
            try sendAll(fd, header, payload, passing: passedFd, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    // MARK: Receiving

    /// Receives the next frame when it is a .body that fits destination, copying its payload
    /// there with no array in between (request bodies are the largest frames): the byte count.
    /// Any other frame is returned as receive() would, with nil for the count.
    public func receive(bodyInto destination: UnsafeMutableRawBufferPointer) throws(ProtocolError) -> (count: Int?, other: Frame?) {
        try fill(atLeast: frameHeaderSize)
        let (type, length) = try parseHeader()
        guard type == .body, length <= destination.count else { return (nil, try receive()) }
        start += frameHeaderSize
        let buffered = min(end - start, length)
        destination.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: buffered)
        start += buffered
        var filled = buffered
        while filled < length {
            let received = try receive(into: UnsafeMutableRawBufferPointer(rebasing: destination[filled..<length]))
            if received == 0 { throw .malformed("truncated frame") }
            filled += received
        }
        return (length, nil)
    }

    /// Receives the next frame. Throws .closed if the peer closed the connection between frames.
    public func receive() throws(ProtocolError) -> Frame {
        try fill(atLeast: frameHeaderSize)
        let (type, length) = try parseHeader()
        let payload: [UInt8]
        if frameHeaderSize + length <= FrameChannel.bufferSize {
            try fill(atLeast: frameHeaderSize + length)
            payload = Array(buffer[start + frameHeaderSize..<start + frameHeaderSize + length])
            start += frameHeaderSize + length
        } else {
            start += frameHeaderSize
            payload = try receiveLargePayload(length)
        }
        return try frame(type, payload)
    }

    /// A received frame; a .file or .socket frame takes its descriptor.
    private func frame(_ type: FrameType, _ payload: [UInt8]) throws(ProtocolError) -> Frame {
        guard type == .file || type == .socket else { return Frame(type: type, payload: payload) }
        guard !descriptors.isEmpty else { throw .malformed("\(type) frame without a file descriptor") }
        return Frame(type: type, payload: payload, fd: descriptors.removeFirst())
    }

    /// Waits as a receive would (up to timeoutMilliseconds) until bytes arrive here or the
    /// peer of `socket` closes it (or its writing half); true for the latter, with nothing of
    /// this channel's waiting. `socket` is only polled, never read.
    public func waitForInput(unlessClosed socket: Int32) throws(ProtocolError) -> Bool {
        guard end == start else { return false }
        var descriptors = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: socket, events: FrameChannel.pollReadHangUp, revents: 0)]
        while true {
            let ready = poll(&descriptors, 2, timeoutMilliseconds == 0 ? -1 : timeoutMilliseconds)
            if ready > 0 { return descriptors[0].revents == 0 }
            if ready == 0 { throw .timedOut }
            if errno != EINTR { throw .system(errno) }
        }
    }

    /// Linux's POLLRDHUP, which needs _GNU_SOURCE and so is not in the Glibc module.
    private static let pollReadHangUp: Int16 = 0x2000

    // MARK: Receiving without waiting

    /// Whether bytes of another frame are here already (buffered, or waiting in the socket):
    /// the peer has more to say right now. What waits is read into the buffer, without
    /// waiting: the read that would follow anyway, instead of a poll and then that read.
    public var hasPendingInput: Bool {
        guard start == end else { return true }
        start = 0
        end = 0
        guard let received = try? receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[...]), waiting: false) else {
            return false  // nothing yet (or an error, for the next receive to meet)
        }
        end = received
        return received > 0
    }

    /// A frame too large for the buffer, its payload as far as receiveIfReady has gathered it.
    private var gathering: (type: FrameType, length: Int, payload: [UInt8])?

    /// Never blocks: the next frame once all of it has arrived, nil while it has not (what
    /// did arrive is kept for the next call). For a poll loop, which must not wait on any one
    /// peer. Throws .closed when the peer closed the connection between frames.
    public func receiveIfReady() throws(ProtocolError) -> Frame? {
        while true {
            if let frame = try bufferedFrame() { return frame }
            if start == end {
                start = 0
                end = 0
            } else if end == FrameChannel.bufferSize {  // a frame that fits has its start moved up
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
                end -= start
                start = 0
            }
            let received: Int
            do {
                received = try receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]), waiting: false)
            } catch .timedOut {
                return nil  // nothing more has arrived yet
            }
            if received == 0 { throw start == end && gathering == nil ? .closed : .malformed("truncated frame") }
            end += received
        }
    }

    /// The next frame if the buffer holds all of it; a larger one moves into `gathering`.
    private func bufferedFrame() throws(ProtocolError) -> Frame? {
        if var large = gathering {
            gathering = nil  // so that appending finds the payload unshared and does not copy it
            let take = min(end - start, large.length - large.payload.count)
            large.payload.append(contentsOf: buffer[start..<start + take])
            start += take
            guard large.payload.count == large.length else {
                gathering = large
                return nil
            }
            gathering = nil
            return try frame(large.type, large.payload)
        }
        guard end - start >= frameHeaderSize else { return nil }
        let (type, length) = try parseHeader()
        if frameHeaderSize + length <= FrameChannel.bufferSize {
            return end - start >= frameHeaderSize + length ? try receive() : nil
        }
        start += frameHeaderSize
        var payload: [UInt8] = []
        payload.reserveCapacity(length)
        gathering = (type, length, payload)
        return try bufferedFrame()
    }

    private func parseHeader() throws(ProtocolError) -> (FrameType, Int) {
        let header = UnsafeRawBufferPointer(rebasing: buffer[start..<start + frameHeaderSize])
        guard header[0] == protocolVersion else { throw .malformed("protocol version \(header[0]), expected \(protocolVersion)") }
        guard let type = FrameType(rawValue: header[1]) else { throw .malformed("unknown frame type \(header[1])") }
        guard loadLittleEndian(UInt16.self, header, at: 2) == 0 else { throw .malformed("reserved header bits set") }
        let length = Int(loadLittleEndian(UInt32.self, header, at: 4))
        guard length <= maximumPayloadSize else {
            throw .malformed("payload of \(length) bytes exceeds the \(maximumPayloadSize)-byte limit")
        }
        return (type, length)
    }

    /// Reads until `count` (≤ the buffer size) unconsumed bytes are buffered.
    private func fill(atLeast count: Int) throws(ProtocolError) {
        if start == end {
            start = 0
            end = 0
        } else if FrameChannel.bufferSize - start < count {  // make room at the end
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
            end -= start
            start = 0
        }
        while end - start < count {
            let received = try receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if received == 0 { throw start == end ? .closed : .malformed("truncated frame") }
            end += received
        }
    }

    /// A payload larger than the buffer is read straight into its array. What is buffered
    /// is all part of it: the buffer is smaller than the payload.
    private func receiveLargePayload(_ length: Int) throws(ProtocolError) -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: length) { (payload, initialized) throws(ProtocolError) in
            let buffered = end - start
            UnsafeMutableRawBufferPointer(payload).copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
            start = 0
            end = 0
            initialized = buffered
            while initialized < length {
                let received = try receive(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: payload[initialized...])))
                if received == 0 { throw .malformed("truncated frame") }
                initialized += received
            }
        }
    }

    private func receive(into destination: UnsafeMutableRawBufferPointer, waiting: Bool = true) throws(ProtocolError) -> Int {
        let queued = descriptors.count
        let received = try receiveSome(fd, into: destination, descriptors: &descriptors, timeoutMilliseconds: timeoutMilliseconds,
                                       kernelTimeout: kernelReceiveTimeout,
                                       waiting: waiting)
        // Only .file frames carry a descriptor, one each, and each is parsed soon after it
        // arrives; anything else is a peer misbehaving (or trying to exhaust our descriptors).
        if descriptors.count - queued > 1 || descriptors.count > FrameChannel.maximumQueuedDescriptors {
            throw .malformed("unexpected file descriptors")
        }
        return received
    }
}
