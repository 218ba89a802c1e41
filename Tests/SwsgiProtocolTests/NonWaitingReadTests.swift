import Glibc
import SwsgiProtocol
import XCTest

/// The reads that never wait: receiveIfReady (the daemon poller's, which keeps what a peer
/// sent in part) and hasPendingInput.
final class NonWaitingReadTests: XCTestCase {
    private func header(_ type: FrameType, _ length: Int) -> [UInt8] {
        [protocolVersion, type.rawValue, 0, 0] + withUnsafeBytes(of: UInt32(length).littleEndian) { Array($0) }
    }

    func testAFrameSentInPiecesIsReturnedOnceWhole() throws {
        let (sender, receiver) = makeChannelPair()
        let payload = bytes("REQUEST_METHOD\0GET\0")
        let wire = header(.request, payload.count) + payload
        // Nothing, half a header, a header and part of the payload: not yet, and no wait.
        XCTAssertNil(try receiver.receiveIfReady())
        writeRaw(sender.fd, Array(wire[..<3]))
        XCTAssertNil(try receiver.receiveIfReady())
        writeRaw(sender.fd, Array(wire[3..<12]))
        XCTAssertNil(try receiver.receiveIfReady())
        writeRaw(sender.fd, Array(wire[12...]))
        let frame = try XCTUnwrap(receiver.receiveIfReady())
        XCTAssertEqual(frame.type, .request)
        XCTAssertEqual(frame.payload, payload)
    }

    func testAFrameLargerThanTheBufferIsGathered() throws {
        let (sender, receiver) = makeChannelPair()
        let payload = patterned(count: 300_001)
        let wire = header(.request, payload.count) + payload
        var sent = 0
        var frame: Frame?
        while frame == nil {
            let next = min(wire.count, sent + 40_000)
            if sent < next { writeRaw(sender.fd, Array(wire[sent..<next])) }
            sent = next
            frame = try receiver.receiveIfReady()
            if frame == nil { XCTAssertLessThan(sent, wire.count) }
        }
        XCTAssertTrue(sameBytes(frame!.payload, payload))
        // What follows is read as usual.
        try sender.send(.bodyEnd, [])
        XCTAssertEqual(try receiver.receive().type, .bodyEnd)
    }

    func testTheEndOfTheConnectionBetweenFramesAndInsideOne() throws {
        let (sender, receiver) = makeChannelPair()
        try sender.send(.bodyEnd, [])
        sender.close()
        XCTAssertEqual(try receiver.receiveIfReady()?.type, .bodyEnd)
        XCTAssertThrowsProtocolError(try receiver.receiveIfReady(), .closed)

        let (halfSender, halfReceiver) = makeChannelPair()
        writeRaw(halfSender.fd, header(.request, 10) + bytes("REQ"))
        halfSender.close()
        XCTAssertThrowsProtocolError(try halfReceiver.receiveIfReady(), .malformed("truncated frame"))
    }

    func testPendingInputIsWhatIsBufferedOrWaiting() throws {
        let (sender, receiver) = makeChannelPair()
        XCTAssertFalse(receiver.hasPendingInput)
        try sender.send(.body, bytes("one"))
        try sender.send(.flush, [])
        XCTAssertTrue(receiver.hasPendingInput)  // in the socket
        XCTAssertEqual(try receiver.receive().type, .body)
        XCTAssertTrue(receiver.hasPendingInput)  // read together, buffered
        XCTAssertEqual(try receiver.receive().type, .flush)
        XCTAssertFalse(receiver.hasPendingInput)
        // A peer that closed has nothing more to say; the next receive finds it gone.
        sender.close()
        XCTAssertFalse(receiver.hasPendingInput)
        XCTAssertThrowsProtocolError(try receiver.receive(), .closed)
    }
}
