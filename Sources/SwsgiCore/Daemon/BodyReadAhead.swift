import Glibc
import SwsgiABI

/// A request body as the Apache child hands it to a daemon. Before the request goes to the
/// group, the child reads up to request-buffer-size bytes of it from the client (as nginx
/// buffers what it proxies), so that a client sending slowly keeps an Apache thread busy but
/// no worker thread of the daemon. The first 64 KiB stay in memory; a larger body moves to an
/// unlinked temporary file. Reads are then answered from what was read ahead, and past it
/// from the client: a body larger than the limit streams as before, so that nothing is held
/// without bound.
final class BodyReadAhead {
    private static let memoryCapacity = 64 << 10
    /// Files of finished requests, for the next ones: a fresh file per request cost the kernel
    /// more than the copying (new page-cache pages, ext4's create and unlink, freeing the pages
    /// at close: about 250 µs of a 1 MiB body here). A request reads only what it wrote.
    private static let spare = SpareFiles()
    /// A file that grew past this is closed rather than kept, with its pages.
    private static let spareLimit = 1 << 20

    private let client: ApacheTransport
    /// The first part of what was read ahead, when there is more than fits in memory.
    private var file: Int32 = -1
    private var fileLength = 0
    /// What was read ahead after the file's part, or all of it.
    private var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var memoryLength = 0
    /// Where the next read starts, counted from the first byte read ahead.
    private var position = 0
    /// The client's body ended within what was read ahead.
    private var ended = false

    init(client: ApacheTransport) {
        self.client = client
    }

    deinit {
        memory.deallocate()
        if file >= 0 {
            if fileLength <= Self.spareLimit { Self.spare.give(file) } else { close(file) }
        }
    }

    /// Reads up to limit bytes; false when reading from the client failed. A temporary file
    /// that cannot be made or written only ends the reading ahead: the rest comes from the client.
    func fill(upTo limit: Int) -> Bool {
        guard limit > 0 else { return true }
        memory = .allocate(byteCount: min(limit, Self.memoryCapacity), alignment: 16)
        while fileLength + memoryLength < limit {
            if memoryLength == memory.count, !moveMemoryToFile() { return true }
            let want = min(memory.count - memoryLength, limit - fileLength - memoryLength)
            let got = client.read(into: (memory.baseAddress! + memoryLength).assumingMemoryBound(to: CChar.self), count: want)
            if got < 0 { return false }
            if got == 0 {
                ended = true
                return true
            }
            memoryLength += got
        }
        return true
    }

    /// Up to count body bytes: the count, 0 at the end of the body, -1 on error.
    func read(into buffer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        if position < fileLength {
            let got = pread(file, buffer, min(count, fileLength - position), off_t(position))
            if got > 0 { position += got }
            return got > 0 ? got : -1
        }
        let inMemory = fileLength + memoryLength - position
        if inMemory > 0 {
            let size = min(count, inMemory)
            UnsafeMutableRawPointer(buffer).copyMemory(from: memory.baseAddress! + (memoryLength - inMemory), byteCount: size)
            position += size
            return size
        }
        return ended ? 0 : client.read(into: buffer, count: count)
    }

    /// Appends the memory's bytes to the file, making it first; false (logged) when that failed.
    private func moveMemoryToFile() -> Bool {
        if file < 0 {
            file = Self.spare.take() ?? Self.temporaryFile()
            guard file >= 0 else {
                client.log(SWSGI_LOG_WARNING, "swsgi: cannot make a temporary file for a request body in \(Self.directory) (\(String(cString: strerror(errno)))); the rest of it is read as the daemon asks")
                return false
            }
        }
        var written = 0
        while written < memoryLength {
            let result = pwrite(file, memory.baseAddress! + written, memoryLength - written, off_t(fileLength + written))
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                client.log(SWSGI_LOG_WARNING, "swsgi: writing a request body to a temporary file in \(Self.directory) failed (\(String(cString: strerror(errno)))); the rest of it is read as the daemon asks")
                return false
            }
            written += result
        }
        fileLength += memoryLength
        memoryLength = 0
        return true
    }

    private static let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"

    /// A new file only this process can reach: created exclusively (no symlink or file of
    /// someone else's is followed), readable by its owner alone, and unlinked at once.
    private static func temporaryFile() -> Int32 {
        while true {
            let path = "\(directory)/swsgi-body-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                unlink(path)
                return fd
            }
            if errno != EEXIST { return -1 }
        }
    }
}

/// Open temporary files no request is using.
private final class SpareFiles {
    private let lock = Lock()
    private var files: [Int32] = []

    func take() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        return files.popLast()
    }

    func give(_ file: Int32) {
        lock.lock()
        defer { lock.unlock() }
        files.append(file)
    }
}
