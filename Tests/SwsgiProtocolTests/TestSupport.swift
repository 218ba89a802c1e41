// Real sockets, threads and a seeded PRNG for the protocol tests; no Foundation.
import Glibc
import SwsgiProtocol
import XCTest

/// Both ends of a fresh AF_UNIX stream socketpair.
func makeSocketPair() -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0, "socketpair: errno \(errno)")
    return (fds[0], fds[1])
}

func makeChannelPair(timeoutMilliseconds: Int32 = 0) -> (FrameChannel, FrameChannel) {
    let (a, b) = makeSocketPair()
    return (FrameChannel(fd: a, timeoutMilliseconds: timeoutMilliseconds), FrameChannel(fd: b, timeoutMilliseconds: timeoutMilliseconds))
}

/// Writes raw bytes, bypassing the framing, to forge what a broken peer would send.
func writeRaw(_ fd: Int32, _ bytes: [UInt8]) {
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
        precondition(n > 0, "write: errno \(errno)")
        written += n
    }
}

/// One frame's bytes, with every header field open to forgery.
func rawFrame(version: UInt8 = 1, type: UInt8, reserved: UInt16 = 0, length: UInt32? = nil, _ payload: [UInt8] = []) -> [UInt8] {
    let length = length ?? UInt32(payload.count)
    return [version, type, UInt8(reserved & 0xFF), UInt8(reserved >> 8),
            UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] + payload
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// `count` bytes of a pseudo-random block repeated; its odd length keeps frame and buffer
/// boundaries from lining up. Built with memcpy: per-byte loops are slow in debug builds.
func patterned(count: Int) -> [UInt8] {
    var random = SeededGenerator(state: 7)
    let block = (0..<65_521).map { _ in UInt8.random(in: 0...255, using: &random) }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        while initialized < count {
            let chunk = min(block.count, count - initialized)
            block.withUnsafeBufferPointer { _ = buffer[initialized..<initialized + chunk].initialize(fromContentsOf: $0[..<chunk]) }
            initialized += chunk
        }
    }
}

/// Array == compares element by element in debug builds; memcmp does not.
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count == b.count && memcmp(a, b, a.count) == 0
}

func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}

/// Runs `body` on a pthread (so a writer and a reader can block against each other).
final class TestThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
    private var thread = pthread_t()

    init(_ run: @escaping () -> Void) {
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, body)
        precondition(created == 0, "pthread_create: \(created)")
    }

    func join() { pthread_join(thread, nil) }
}

/// The error a thread's work ended with, read after join.
final class Outcome {
    var error: ProtocolError?
}

func XCTAssertThrowsProtocolError<T>(
    _ expression: @autoclosure () throws(ProtocolError) -> T, _ expected: ProtocolError,
    file: StaticString = #filePath, line: UInt = #line
) {
    do {
        let value = try expression()
        XCTFail("expected \(expected), got \(value)", file: file, line: line)
    } catch {
        XCTAssertEqual(error, expected, file: file, line: line)
    }
}

func XCTAssertMalformed<T>(_ expression: @autoclosure () throws(ProtocolError) -> T, file: StaticString = #filePath, line: UInt = #line) {
    do {
        let value = try expression()
        XCTFail("expected a malformed error, got \(value)", file: file, line: line)
    } catch {
        guard case .malformed = error else { return XCTFail("expected a malformed error, got \(error)", file: file, line: line) }
    }
}

/// SplitMix64: deterministic, so a fuzz failure reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A temporary file holding `content`, already unlinked; the caller closes it.
func temporaryFile(_ content: [UInt8]) -> Int32 {
    var template = Array("/tmp/swsgi-protocol-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    precondition(fd >= 0, "mkstemp: errno \(errno)")
    unlink(template)
    writeRaw(fd, content)
    return fd
}

/// What a descriptor refers to: the same for every descriptor of that file or socket.
struct FileIdentity: Equatable {
    let device: UInt
    let inode: UInt
}

func identity(of fd: Int32) -> FileIdentity? {
    var info = stat()
    guard fstat(fd, &info) == 0 else { return nil }
    return FileIdentity(device: UInt(info.st_dev), inode: UInt(info.st_ino))
}

/// How many of this process's descriptors refer to `target`: only what the test made counts,
/// not what XCTest's or the runtime's threads open meanwhile.
func openDescriptors(to target: FileIdentity) -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let fd = withUnsafeBytes(of: entry.pointee.d_name) { atoi($0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        // "." and ".." read as 0, which is stdin, never a test's file.
        if fd != dirfd(directory), identity(of: fd) == target { count += 1 }
    }
    return count
}
