// Random and mutated bytes through the real receive path and the payload decoders: they
// must only ever return frames or throw, never crash, hang or over-allocate.
import Glibc
import SwsgiProtocol
import XCTest

final class FuzzTests: XCTestCase {
    func testMutatedStreamsOnlyYieldFramesOrErrors() {
        var random = SeededGenerator(state: 0x5753_4753_4931)
        var intact = 0
        for iteration in 0..<2000 {
            let (frames, stream) = randomStream(&random)
            let mutated = mutate(stream, &random)
            let (sender, receiver) = makeSocketPair()
            let channel = FrameChannel(fd: receiver, timeoutMilliseconds: 2000)
            writeRaw(sender, mutated)
            shutdown(sender, Int32(SHUT_WR))
            var received: [Frame] = []
            var outcome: ProtocolError?
            // Every frame takes at least a header, so this bound is never reached unless receive loops.
            for _ in 0...(mutated.count / frameHeaderSize + 1) {
                do {
                    let frame = try channel.receive()
                    received.append(frame)
                    decodeEverything(frame.payload)
                } catch {
                    outcome = error
                    break
                }
            }
            XCTAssertNotNil(outcome, "iteration \(iteration): the stream never ended")
            XCTAssertNotEqual(outcome, .timedOut, "iteration \(iteration)")
            if mutated == stream, outcome == .closed {
                intact += 1
                XCTAssertEqual(received.map(\.type), frames.map(\.type), "iteration \(iteration)")
                XCTAssertEqual(received.map(\.payload), frames.map(\.payload), "iteration \(iteration)")
            }
            close(sender)
        }
        XCTAssertGreaterThan(intact, 100)  // the unmutated streams did exercise the happy path
    }

    func testDecodersOnMutatedPayloads() {
        var random = SeededGenerator(state: 42)
        for _ in 0..<2000 {
            let strings = (0..<Int.random(in: 0...6, using: &random)).map { _ in randomBytes(&random, upTo: 12) }
            let encoded = encodeStrings(strings)
            XCTAssertEqual(try decodeStrings(encoded), strings)
            let mutated = mutate(encoded, &random)
            if let decoded = try? decodeStrings(mutated) {
                XCTAssertEqual(encodeStrings(decoded), mutated)  // strict: only exact encodings decode
            }
            decodeEverything(mutated)
        }
    }

    private func decodeEverything(_ payload: [UInt8]) {
        _ = try? decodeStrings(payload)
        _ = try? decodeEnd(payload)
        _ = try? decodeReadBody(payload)
        _ = try? decodeFile(payload)
    }

    /// A few valid frames (no .file: those need a descriptor) and their bytes.
    private func randomStream(_ random: inout SeededGenerator) -> ([Frame], [UInt8]) {
        let types: [FrameType] = [.request, .readBody, .body, .bodyEnd, .start, .flush, .end]
        var frames: [Frame] = []
        var stream: [UInt8] = []
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let type = types.randomElement(using: &random)!
            let payload: [UInt8]
            switch type {
            case .request, .start: payload = encodeStrings((0..<Int.random(in: 0...4, using: &random)).map { _ in randomBytes(&random, upTo: 10) })
            case .readBody: payload = encodeReadBody(UInt32.random(in: 1...UInt32.max, using: &random))
            case .end: payload = encodeEnd(Int32.random(in: -1...599, using: &random))
            case .body: payload = randomBytes(&random, upTo: 100)
            default: payload = []
            }
            frames.append(Frame(type: type, payload: payload))
            stream += rawFrame(type: type.rawValue, payload)
        }
        return (frames, stream)
    }

    private func mutate(_ bytes: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        switch Int.random(in: 0..<8, using: &random) {
        case 0, 1: break  // left intact
        case 2: if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] = .random(in: 0...255, using: &random) }
        case 3: if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random) }
        case 4: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
        case 5: bytes.insert(.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
        case 6: if bytes.count >= 8 { bytes[Int.random(in: 0..<8, using: &random)] = .random(in: 0...255, using: &random) }
        default: bytes = randomBytes(&random, upTo: 64)
        }
        return bytes
    }

    private func randomBytes(_ random: inout SeededGenerator, upTo limit: Int) -> [UInt8] {
        (0..<Int.random(in: 0...limit, using: &random)).map { _ in .random(in: 0...255, using: &random) }
    }
}
