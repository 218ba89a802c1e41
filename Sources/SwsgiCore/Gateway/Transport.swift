import Glibc
import SwsgiABI
import SwsgiPython

/// Where a request's bytes come from and go to: Apache's filters in embedded mode, the daemon
/// socket in a daemon process. One gateway, two transports. Called without the GIL.
protocol Transport: AnyObject {
    /// Up to count body bytes into buffer: the count, 0 at the end of the body, -1 on error.
    func read(into buffer: UnsafeMutablePointer<CChar>, count: Int) -> Int
    /// Status line and headers, once; false when they could not be sent.
    func start(status: UnsafePointer<CChar>, names: [UnsafePointer<CChar>?], values: [UnsafePointer<CChar>?]) -> Bool
    /// Body bytes; false when the client is gone. flush: they must reach the client now (the
    /// app may not produce the next block soon), not wait in a buffer for more.
    func write(_ data: UnsafePointer<CChar>, count: Int, flush: Bool) -> Bool
    /// How many of a response's first writes with flush: (while it has written at most
    /// Exchange.writeWithGIL bytes) can never wait for the peer to read, so that the
    /// gateway may keep the GIL across them.
    var flushesThatCannotWait: Int { get }
    /// length bytes of fd from offset; false when the client is gone. Takes fd: the
    /// transport closes it once the file is sent (or not).
    func sendFile(_ fd: Int32, offset: UInt64, length: UInt64) -> Bool
    /// One line for the error log, about this request.
    func log(_ level: Int32, _ message: UnsafePointer<CChar>)
    /// After start with a 101: the client connection itself, and what was read from it
    /// already; nil when the client is gone or the transport cannot give it up.
    func handOver() -> (fd: Int32, pending: [UInt8])?
    /// A script's modification time for its reload check (scriptModificationTime's unit).
    func modificationTime(of script: String) -> Int?
}

extension Transport {
    func modificationTime(of script: String) -> Int? { scriptModificationTime(script) }

    func log(_ level: swsgi_level, _ message: String) {
        message.withCString { log(Int32(level.rawValue), $0) }
    }
}

/// Embedded mode: the shim's callbacks on its request.
final class ApacheTransport: Transport {
    private let ctx: UnsafeMutableRawPointer

    init(_ ctx: UnsafeMutableRawPointer) { self.ctx = ctx }

    func read(into buffer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        Apache.io.read?(ctx, buffer, count) ?? -1
    }

    func start(status: UnsafePointer<CChar>, names: [UnsafePointer<CChar>?], values: [UnsafePointer<CChar>?]) -> Bool {
        Apache.io.start?(ctx, status, names.count, names, values) == 0
    }

    func write(_ data: UnsafePointer<CChar>, count: Int, flush: Bool) -> Bool {
        Apache.io.write?(ctx, data, count, flush ? 1 : 0) == 0
    }

    /// A flush writes to the client, who may be slow to read.
    var flushesThatCannotWait: Int { 0 }

    func sendFile(_ fd: Int32, offset: UInt64, length: UInt64) -> Bool {
        guard let sendfile = Apache.io.sendfile else {
            close(fd)
            return false
        }
        return sendfile(ctx, fd, offset, length) == 0
    }

    /// Pushes what was written so far to the client.
    func flush() -> Bool {
        Apache.io.flush?(ctx) == 0
    }

    func log(_ level: Int32, _ message: UnsafePointer<CChar>) {
        Apache.log(ctx, level, message)
    }

    /// Apache's own stat of the request's file where the script is that file.
    func modificationTime(of script: String) -> Int? {
        let known = Apache.io.file_mtime?(ctx, script) ?? -1
        return known >= 0 ? Int(known) : scriptModificationTime(script)
    }

    /// Embedded mode runs no ASGI app: nothing takes the connection over.
    func handOver() -> (fd: Int32, pending: [UInt8])? { nil }

    /// Why the client connection cannot go to a daemon process, or nil when it can.
    func handoverRefusal() -> String? {
        Apache.io.handover_refusal?(ctx).map { String(cString: $0) }
    }

    /// Sends the 101 head and gives up the connection: its socket (over TLS, a socket pair's
    /// end that the shim relays) and the bytes read from it already (valid with the request);
    /// nil when the client is gone.
    func giveUpConnection() -> (fd: Int32, pending: UnsafeRawBufferPointer)? {
        var fd: Int32 = -1, pending: UnsafePointer<CChar>?, length = 0
        guard Apache.io.hand_over?(ctx, &fd, &pending, &length) == 0 else { return nil }
        return (fd, UnsafeRawBufferPointer(start: pending, count: length))
    }

    /// The request's headers as sent, one "Name: value\n" line each (valid with the request).
    func headers() -> UnsafePointer<CChar>? {
        Apache.io.headers?(ctx)
    }

    /// The client's socket, to poll for its closing; -1 when the request has none (HTTP/2).
    func clientSocket() -> Int32 {
        Apache.io.client_socket?(ctx) ?? -1
    }
}
