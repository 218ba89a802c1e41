import Glibc
import SwsgiABI
import SwsgiProtocol

/// A daemon's side of one request: the gateway's I/O as frames to the Apache child. The body
/// is pulled in pieces the app asks for (.readBody), the response pushed in bounded frames, a
/// file passed as its descriptor for the child to send. Small frames are queued, so that a
/// small response (start, body, end) leaves in one system call. The part of a body the child
/// read ahead into a file comes as that file's descriptor, and is read from it here.
final class SocketTransport: Transport {
    /// Response frames stay small so that neither side holds much of a large body.
    static let maximumChunk = 256 << 10
    let channel: FrameChannel
    let description: String
    /// "address:port", which mod_wsgi's daemons put before the lines about a request (made into
    /// that prefix only when a line is logged: most requests log none).
    private let client: String?
    private let lock = Lock()
    private var bodyDone = false
    /// The child's read-ahead file (a .file answer to .readBody) and the part of it not read
    /// yet. Read only under the lock while the connection is sound, and closed before the
    /// request's .end: the child reuses the file for a later request once it has that frame.
    private var bodyFile: Int32 = -1
    private var bodyFileOffset = 0, bodyFileEnd = 0
    private var started = false
    /// Once set, the connection cannot carry another request (an I/O failure, or an abort).
    private(set) var broken = false

    init(_ channel: FrameChannel, description: String, client: String?) {
        self.channel = channel
        self.description = description
        self.client = client
    }

    private func locked<T>(_ body: () throws -> T, failure: T) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !broken else { return failure }
        do { return try body() } catch { broken = true; return failure }
    }

    deinit {
        closeBodyFile()
    }

    func read(into buffer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        guard !bodyDone else { return 0 }
        return locked({ () throws -> Int in
            if bodyFile >= 0 { return try readBodyFile(into: buffer, count: count) }
            try channel.queue(.readBody, encodeReadBody(UInt32(min(count, Int(UInt32.max)))))
            try channel.flush()
            let answer = try channel.receive(bodyInto: UnsafeMutableRawBufferPointer(start: buffer, count: count))
            if let received = answer.count, received > 0 { return received }
            if let file = answer.other, file.type == .file, let fd = file.fd {
                bodyFile = fd
                let (offset, length) = try decodeFile(file.payload)
                guard length > 0, length <= UInt64(Int.max), offset <= UInt64(Int.max) - length else { throw ProtocolError.malformed("empty or overflowing body file") }
                (bodyFileOffset, bodyFileEnd) = (Int(offset), Int(offset + length))
                return try readBodyFile(into: buffer, count: count)
            }
            guard answer.other?.type == .bodyEnd else {
                throw ProtocolError.malformed("unexpected answer while reading the request body")
            }
            bodyDone = true
            return 0
        }, failure: -1)
    }

    /// Up to count bytes of the body file (at least one: the child said how long it is).
    private func readBodyFile(into buffer: UnsafeMutablePointer<CChar>, count: Int) throws -> Int {
        var got: Int
        repeat { got = pread(bodyFile, buffer, min(count, bodyFileEnd - bodyFileOffset), off_t(bodyFileOffset)) } while got < 0 && errno == EINTR
        if got < 0 { throw ProtocolError.system(errno) }
        if got == 0 { throw ProtocolError.malformed("the request body file is shorter than the child said") }
        bodyFileOffset += got
        if bodyFileOffset == bodyFileEnd { closeBodyFile() }
        return got
    }

    private func closeBodyFile() {
        if bodyFile >= 0 { close(bodyFile) }
        bodyFile = -1
    }

    func start(status: UnsafePointer<CChar>, names: [UnsafePointer<CChar>?], values: [UnsafePointer<CChar>?]) -> Bool {
        var list = StringListBuilder(capacity: 512)
        list.append(status)
        for (name, value) in zip(names, values) {
            list.append(name!)
            list.append(value!)
        }
        let payload = list.finish()
        return locked({ () throws in
            try channel.queue(.start, payload)
            started = true
            return true
        }, failure: false)
    }

    func write(_ data: UnsafePointer<CChar>, count: Int, flush: Bool) -> Bool {
        locked({ () throws in
            var offset = 0
            while offset < count {
                let size = min(Self.maximumChunk, count - offset)
                try channel.queue(.body, UnsafeRawBufferPointer(start: data + offset, count: size))
                offset += size
            }
            if flush {
                // The child flushes Apache's buffers when this frame reaches it.
                try channel.queue(.flush, [UInt8]())
                try channel.flush()
            }
            return true
        }, failure: false)
    }

    /// A request has its connection to itself, and the child reads each frame as it comes
    /// while it has relayed at most Exchange.writeWithGIL bytes (Apache's filters block only
    /// past 64 KiB): those frames, in up to this many sendmsg (each small one taking about
    /// 1 KiB of the socket's 208 KiB more than its bytes), fit in the socket's buffer.
    var flushesThatCannotWait: Int { 16 }

    func sendFile(_ fd: Int32, offset: UInt64, length: UInt64) -> Bool {
        // The child has its own descriptor once the frame is sent.
        defer { close(fd) }
        return locked({ () throws in try channel.sendFile(fd, offset: offset, length: length); return true }, failure: false)
    }

    func log(_ level: Int32, _ message: UnsafePointer<CChar>) {
        guard let client else { return Apache.log(nil, level, message) }
        var line = Array("[remote \(client)] ".utf8)
        line.append(contentsOf: UnsafeRawBufferPointer(start: message, count: strlen(message) + 1))
        line.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { Apache.log(nil, level, $0.baseAddress!) } }
    }

    func handOver() -> (fd: Int32, pending: [UInt8])? {
        locked({ () throws -> (fd: Int32, pending: [UInt8])? in
            try channel.queue(.upgrade, [UInt8]())
            try channel.flush()
            let answer = try channel.receive()
            guard answer.type == .socket, let fd = answer.fd else {
                throw ProtocolError.malformed("unexpected answer to the connection's hand-over")
            }
            return (fd, answer.payload)
        }, failure: nil)
    }

    /// Ends the request: the result for the child.
    func end(_ result: Int32) {
        _ = locked({ () throws in
            closeBodyFile()
            try channel.queue(.end, encodeEnd(result))
            try channel.flush()
            return true
        }, failure: false)
    }

    /// Turns the request away unstarted: the child sends it again on a new connection.
    func reject() {
        _ = locked({ () throws in
            try channel.send(.rejected, [UInt8]())
            broken = true
            return true
        }, failure: false)
    }

    /// From another thread, for a request that overran request-timeout: the child gets its
    /// answer now (if the worker is not in the middle of a frame), and the connection is cut
    /// so that whatever the stuck worker sends later goes nowhere.
    func abort(_ status: Int32) {
        // Reading ends before the answer goes: the child pools the connection once it has the
        // answer, and a request it sends on it next must fail to send (and go to another
        // connection), not wait unread until the cut below and be lost (a 502).
        shutdown(channel.fd, Int32(SHUT_RD))
        if lock.tryLock() {
            closeBodyFile()
            if !broken { try? channel.send(.end, encodeEnd(started ? -1 : status)) }
            broken = true
            lock.unlock()
        }
        shutdown(channel.fd, Int32(SHUT_RDWR))
    }
}
