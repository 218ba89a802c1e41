import Glibc

// The few file-system questions the configuration asks, without Foundation.

enum FileKind: Equatable {
    case missing
    case directory
    case regular
    case other
    /// stat() failed for another reason; the text is strerror's.
    case unreadable(String)
}

func fileKind(_ path: String) -> FileKind {
    var info = stat()
    guard stat(path, &info) == 0 else {
        return errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable(String(cString: strerror(errno)))
    }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .directory
    case S_IFREG: return .regular
    default: return .other
    }
}

/// A small text file's contents, or nil when it cannot be read.
func readText(_ path: String, limit: Int = 65536) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: limit)
    var count = 0
    while count < limit {
        let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, limit - count) }
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else {
            if got < 0 { return nil }
            break
        }
        count += got
    }
    return String(decoding: bytes[..<count], as: UTF8.self)
}

/// The names in a directory, without "." and ".."; empty when it cannot be listed.
func directoryEntries(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
