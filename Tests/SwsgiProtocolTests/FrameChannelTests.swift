import Glibc
import SwsgiProtocol
import XCTest

final class FrameChannelTests: XCTestCase {
    func testEveryFrameTypeRoundTrips() throws {
        let (client, daemon) = makeChannelPair()
        let environ = [bytes("REQUEST_METHOD"), bytes("POST"), bytes("PATH_INFO"), []]
        try client.send(.request, encodeStrings(environ))
        try daemon.send(.readBody, encodeReadBody(8192))
        try client.send(.body, bytes("name=value"))
        try client.send(.bodyEnd, [])
        try daemon.send(.start, encodeStrings([bytes("200 OK"), bytes("Content-Type"), bytes("text/plain")]))
        // withUnsafeBufferPointer keeps the typed throw (withUnsafeBytes is rethrows).
        try bytes("response").withUnsafeBufferPointer { (chunk) throws(ProtocolError) in
            try daemon.send(.body, UnsafeRawBufferPointer(chunk))
        }
        try daemon.send(.flush, [])
        try daemon.send(.end, encodeEnd(0))
        try daemon.send(.end, encodeEnd(-1))
        try daemon.send(.rejected, [])

        let request = try daemon.receive()
        XCTAssertEqual(request.type, .request)
        XCTAssertNil(request.fd)
        XCTAssertEqual(try decodeStrings(request.payload), environ)
        let readBody = try client.receive()
        XCTAssertEqual(readBody.type, .readBody)
        XCTAssertEqual(try decodeReadBody(readBody.payload), 8192)
        let body = try daemon.receive()
        XCTAssertEqual(body.type, .body)
        XCTAssertEqual(body.payload, bytes("name=value"))
        let bodyEnd = try daemon.receive()
        XCTAssertEqual(bodyEnd.type, .bodyEnd)
        XCTAssertEqual(bodyEnd.payload, [])
        let start = try client.receive()
        XCTAssertEqual(start.type, .start)
        XCTAssertEqual(try decodeStrings(start.payload), [bytes("200 OK"), bytes("Content-Type"), bytes("text/plain")])
        let chunk = try client.receive()
        XCTAssertEqual(chunk.type, .body)
        XCTAssertEqual(chunk.payload, bytes("response"))
        XCTAssertEqual(try client.receive().type, .flush)
        XCTAssertEqual(try decodeEnd(client.receive().payload), 0)
        XCTAssertEqual(try decodeEnd(client.receive().payload), -1)
        XCTAssertEqual(try client.receive().type, .rejected)
    }

    func testHeaderIsVersionTypeReservedAndLittleEndianLength() throws {
        let (sender, receiver) = makeSocketPair()
        let channel = FrameChannel(fd: sender)
        defer { channel.close(); close(receiver) }
        try channel.send(.body, [7, 8, 9])
        var header = [UInt8](repeating: 0, count: 11)
        XCTAssertEqual(read(receiver, &header, 11), 11)
        XCTAssertEqual(header, [1, 3, 0, 0, 3, 0, 0, 0, 7, 8, 9])
    }

    func testSocketHandOverCarriesTheConnectionAndWhatWasReadFromIt() throws {
        let (daemon, client) = makeChannelPair()
        let (connection, peer) = makeSocketPair()
        defer { close(peer) }
        try daemon.send(.upgrade, [])
        XCTAssertEqual(try client.receive().type, .upgrade)
        try bytes("early").withUnsafeBufferPointer { (pending) throws(ProtocolError) in
            try client.sendSocket(connection, pending: UnsafeRawBufferPointer(pending))
        }
        close(connection)  // the child's copy goes; the daemon's stays open

        let frame = try daemon.receive()
        XCTAssertEqual(frame.type, .socket)
        XCTAssertEqual(frame.payload, bytes("early"))
        let received = try XCTUnwrap(frame.fd)
        defer { close(received) }
        XCTAssertEqual(write(received, "late", 4), 4)
        var got = [UInt8](repeating: 0, count: 4)
        XCTAssertEqual(read(peer, &got, 4), 4)
        XCTAssertEqual(got, bytes("late"))
    }

    func testFileDescriptorPassing() throws {
        let (daemon, client) = makeChannelPair()
        let content = bytes("0123456789abcdef")
        let file = temporaryFile(content)
        defer { close(file) }
        try daemon.sendFile(file, offset: 3, length: 5)
        try daemon.send(.end, encodeEnd(0))

        let frame = try client.receive()
        XCTAssertEqual(frame.type, .file)
        let received = try XCTUnwrap(frame.fd)
        defer { close(received) }
        XCTAssertNotEqual(received, file)
        XCTAssertEqual(fcntl(received, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
        let (offset, length) = try decodeFile(frame.payload)
        XCTAssertEqual(offset, 3)
        XCTAssertEqual(length, 5)
        var slice = [UInt8](repeating: 0, count: Int(length))
        XCTAssertEqual(pread(received, &slice, Int(length), off_t(offset)), Int(length))
        XCTAssertEqual(slice, bytes("34567"))
        XCTAssertEqual(try decodeEnd(client.receive().payload), 0)
    }

    func testSeveralFilesInARowKeepTheirOrder() throws {
        let (daemon, client) = makeChannelPair()
        let files = (0..<3).map { temporaryFile(bytes("file \($0)")) }
        defer { files.forEach { close($0) } }
        for file in files {
            try daemon.send(.body, bytes("before"))
            try daemon.sendFile(file, offset: 0, length: 6)
        }
        for index in 0..<3 {
            XCTAssertEqual(try client.receive().payload, bytes("before"))
            let frame = try client.receive()
            let fd = try XCTUnwrap(frame.fd)
            var content = [UInt8](repeating: 0, count: 6)
            XCTAssertEqual(pread(fd, &content, 6, 0), 6)
            XCTAssertEqual(content, bytes("file \(index)"))
            close(fd)
        }
    }

    func testCloseClosesDescriptorsReceivedButNotHandedOut() throws {
        let (daemon, client) = makeChannelPair()
        let file = temporaryFile(bytes("x"))
        defer { close(file) }
        let (sent, socket) = (try XCTUnwrap(identity(of: file)), try XCTUnwrap(identity(of: client.fd)))
        try daemon.send(.body, bytes("first"))
        try daemon.sendFile(file, offset: 0, length: 1)
        // One recvmsg takes both frames, so the .file frame's descriptor is now queued.
        XCTAssertEqual(try client.receive().payload, bytes("first"))
        XCTAssertEqual(openDescriptors(to: sent), 2)
        client.close()
        XCTAssertEqual(openDescriptors(to: sent), 1)
        XCTAssertEqual(openDescriptors(to: socket), 0)
        client.close()  // idempotent
    }

    func testFileFrameWithoutDescriptorIsMalformed() {
        let (sender, receiver) = makeSocketPair()
        let channel = FrameChannel(fd: receiver)
        defer { close(sender) }
        writeRaw(sender, rawFrame(type: 6, [UInt8](repeating: 0, count: 16)))
        XCTAssertThrowsProtocolError(try channel.receive(), .malformed("file frame without a file descriptor"))
    }

    func testLargePayloadsFromAnotherThread() throws {
        let (sender, receiver) = makeChannelPair()
        let maximum = patterned(count: 16 << 20)
        let eightMiB = Array(maximum[1000..<1000 + (8 << 20) + 1])
        let outcome = Outcome()
        let thread = TestThread {
            do throws(ProtocolError) {
                try sender.send(.body, maximum)
                try sender.send(.body, eightMiB)
                try sender.send(.end, encodeEnd(0))
            } catch { outcome.error = error }
        }
        let first = try receiver.receive()
        let second = try receiver.receive()
        let end = try receiver.receive()
        thread.join()
        XCTAssertNil(outcome.error)
        XCTAssertTrue(sameBytes(first.payload, maximum))
        XCTAssertTrue(sameBytes(second.payload, eightMiB))
        XCTAssertEqual(try decodeEnd(end.payload), 0)
    }

    func testOversizedPayloadIsRefusedBeforeSending() throws {
        let (sender, receiver) = makeChannelPair(timeoutMilliseconds: 50)
        let tooLarge = [UInt8](repeating: 0, count: (16 << 20) + 1)
        XCTAssertMalformed(try sender.send(.body, tooLarge))
        XCTAssertThrowsProtocolError(try receiver.receive(), .timedOut)  // nothing was written
    }

    func testManySmallFramesBackToBack() throws {
        let (sender, receiver) = makeChannelPair()
        let count = 20_000
        let outcome = Outcome()
        let thread = TestThread {
            do throws(ProtocolError) {
                for index in 0..<count {
                    try sender.send(.body, [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index % 300))
                }
                sender.close()
            } catch { outcome.error = error }
        }
        for index in 0..<count {
            let frame = try receiver.receive()
            XCTAssertEqual(frame.type, .body)
            guard frame.payload == [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index % 300) else {
                return XCTFail("frame \(index) corrupted")
            }
        }
        XCTAssertThrowsProtocolError(try receiver.receive(), .closed)
        thread.join()
        XCTAssertNil(outcome.error)
    }

    func testEndOfStreamAtFrameBoundaryIsClosed() throws {
        let (sender, receiver) = makeChannelPair()
        try sender.send(.flush, [])
        sender.close()
        XCTAssertEqual(try receiver.receive().type, .flush)
        XCTAssertThrowsProtocolError(try receiver.receive(), .closed)
    }

    func testTruncatedFramesAreMalformed() {
        for truncated in [rawFrame(type: 3, length: 10, [1, 2, 3, 4, 5]), [1, 3, 0]] {
            let (sender, receiver) = makeSocketPair()
            let channel = FrameChannel(fd: receiver)
            writeRaw(sender, truncated)
            close(sender)
            XCTAssertThrowsProtocolError(try channel.receive(), .malformed("truncated frame"))
        }
        // A large payload is read outside the buffer; truncation there is caught too.
        let (sender, receiver) = makeSocketPair()
        let channel = FrameChannel(fd: receiver)
        let thread = TestThread {
            writeRaw(sender, rawFrame(type: 3, length: 1 << 20, [UInt8](repeating: 1, count: 300_000)))
            close(sender)
        }
        XCTAssertThrowsProtocolError(try channel.receive(), .malformed("truncated frame"))
        thread.join()
    }

    func testBadHeadersAreMalformed() {
        let headers: [([UInt8], String)] = [
            (rawFrame(version: 2, type: 3), "protocol version 2, expected 1"),
            (rawFrame(version: 0, type: 3), "protocol version 0, expected 1"),
            (rawFrame(type: 0), "unknown frame type 0"),
            (rawFrame(type: 12), "unknown frame type 12"),
            (rawFrame(type: 3, reserved: 1), "reserved header bits set"),
            (rawFrame(type: 3, length: (16 << 20) + 1), "payload of 16777217 bytes exceeds the 16777216-byte limit"),
            (rawFrame(type: 3, length: .max), "payload of 4294967295 bytes exceeds the 16777216-byte limit"),
        ]
        for (header, message) in headers {
            let (sender, receiver) = makeSocketPair()
            let channel = FrameChannel(fd: receiver)
            writeRaw(sender, header)
            XCTAssertThrowsProtocolError(try channel.receive(), .malformed(message))
            close(sender)
        }
    }

    func testReceiveTimesOutAndStaysUsable() throws {
        let (sender, receiver) = makeChannelPair(timeoutMilliseconds: 100)
        let before = monotonicMilliseconds()
        XCTAssertThrowsProtocolError(try receiver.receive(), .timedOut)
        let waited = monotonicMilliseconds() - before
        XCTAssertGreaterThanOrEqual(waited, 90)
        XCTAssertLessThan(waited, 2000)
        try sender.send(.flush, [])
        XCTAssertEqual(try receiver.receive().type, .flush)
    }

    func testSendTimesOutWhenThePeerDoesNotRead() {
        let (sender, receiver) = makeChannelPair(timeoutMilliseconds: 100)
        defer { receiver.close() }
        let before = monotonicMilliseconds()
        XCTAssertThrowsProtocolError(try sender.send(.body, [UInt8](repeating: 0, count: 16 << 20)), .timedOut)
        XCTAssertLessThan(monotonicMilliseconds() - before, 2000)
    }

    func testSendingToAClosedPeerIsAnErrorNotSIGPIPE() {
        let (sender, receiver) = makeChannelPair()
        receiver.close()
        XCTAssertThrowsProtocolError(try sender.send(.body, [1, 2, 3]), .system(EPIPE))
    }

    func testPeerCredentialsAreOurOwn() throws {
        let (a, b) = makeSocketPair()
        defer { close(a); close(b) }
        let credentials = try XCTUnwrap(peerCredentials(a))
        XCTAssertEqual(credentials.pid, getpid())
        XCTAssertEqual(credentials.uid, getuid())
        XCTAssertEqual(credentials.gid, getgid())
        XCTAssertNil(peerCredentials(-1))
    }
}

final class BodyReceiveTests: XCTestCase {
    func testBodyLandsInTheCallersBuffer() throws {
        let (client, daemon) = makeChannelPair()
        let small = [UInt8](repeating: 7, count: 100), large = [UInt8](repeating: 9, count: 300)
        try client.send(.body, small)
        try client.send(.body, large)
        try client.send(.bodyEnd, [])
        var destination = [UInt8](repeating: 0, count: 200)
        try destination.withUnsafeMutableBytes { raw in
            let first = try daemon.receive(bodyInto: raw)
            XCTAssertEqual(first.count, 100)
            XCTAssertNil(first.other)
            let second = try daemon.receive(bodyInto: raw)   // too large: handed back as a frame
            XCTAssertNil(second.count)
            XCTAssertEqual(second.other?.payload, large)
            let third = try daemon.receive(bodyInto: raw)
            XCTAssertEqual(third.other?.type, .bodyEnd)
        }
        XCTAssertEqual(Array(destination[0..<100]), small)
    }
}
