import Glibc
import SwsgiABI

/// A request body as the Apache child hands it to a daemon. Before the request goes to the
/// group, the child reads up to request-buffer-size bytes of it from the client (as nginx
/// buffers what it proxies), so that a client sending slowly keeps an Apache thread busy but
/// no worker thread of the daemon. The first 64 KiB stay in memory; a larger body moves to an
/// unlinked temporary file. Reads are then answered from what was read ahead, and past it
/// from the client: a body larger than the limit streams as before, so that nothing is held
/// without bound. The file's part goes to the daemon as the file itself, which it reads
/// there: no copy through this process and the daemon connection.
final class BodyReadAhead {
    private static let memoryCapacity = 64 << 10
    /// Files of finished requests, for the next ones: a fresh file per request cost the kernel
    /// more than the copying (new page-cache pages, ext4's create and unlink, freeing the pages
    /// at close: about 250 µs of a 1 MiB body here). A request reads only what it wrote, and
    /// a daemon is given no more of a file than that. A file serves one group only: an app that
    /// kept a duplicate of the descriptor sees its own group's later bodies, never another's.
    private static let spare = SpareFiles()
    /// A file that grew past this is closed rather than kept, with its pages.
    private static let spareLimit = 1 << 20

    private let client: ApacheTransport
    /// The daemon group (its index) whose request this is.
    private let group: Int
    /// The first part of what was read ahead, when there is more than fits in memory.
    private var file: Int32 = -1
    private var fileLength = 0
    /// The file's size, which may be more than this request wrote into a reused one.
    private var fileSize = 0
    /// The daemon has the file and may still read it: it is not reused until the daemon says
    /// it closed it (released()).
    private var fileShared = false
    /// What was read ahead after the file's part, or all of it.
    private var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var memoryLength = 0
    /// Where the next read starts, counted from the first byte read ahead.
    private var position = 0
    /// The client's body ended within what was read ahead.
    private var ended = false

    init(client: ApacheTransport, group: Int) {
        self.client = client
        self.group = group
    }

    deinit {
        memory.deallocate()
        if file >= 0 {
            if fileSize <= Self.spareLimit, !fileShared { Self.spare.give(file, size: fileSize, group: group) } else { close(file) }
        }
    }

    /// The file holding the body's first bytes, for the daemon, if nothing was read yet and
    /// it can be trimmed to those bytes; reading goes on after them. Nil: read() as before.
    func handOverFile() -> (fd: Int32, length: Int)? {
        guard position == 0, fileLength > 0 else { return nil }
        if fileSize > fileLength {
            guard ftruncate(file, off_t(fileLength)) == 0 else { return nil }
            fileSize = fileLength
        }
        position = fileLength
        fileShared = true
        return (file, fileLength)
    }

    /// The daemon ended the request (.end), having closed its copy of the file.
    func released() {
        fileShared = false
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
            (file, fileSize) = Self.spare.take(group: group) ?? (Self.temporaryFile(), 0)
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
        fileSize = max(fileSize, fileLength)
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

/// Open temporary files no request is using, with their sizes, by daemon group.
private final class SpareFiles {
    /// Beyond this many (of all groups), a finished request's file is closed, not kept.
    private static let limit = 64
    private let lock = Lock()
    private var files: [Int: [(Int32, Int)]] = [:]
    private var count = 0

    func take(group: Int) -> (Int32, Int)? {
        lock.lock()
        defer { lock.unlock() }
        guard let file = files[group]?.popLast() else { return nil }
        count -= 1
        return file
    }

    func give(_ file: Int32, size: Int, group: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard count < Self.limit else { close(file); return }
        files[group, default: []].append((file, size))
        count += 1
    }
}
