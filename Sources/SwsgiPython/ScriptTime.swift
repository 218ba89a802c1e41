import Glibc

/// A script's modification time as its reload check compares it, in microseconds since the
/// epoch (Apache's unit, so that its own stat of a request's file can stand in); nil when the
/// file cannot be stat'ed.
package func scriptModificationTime(_ path: String) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return info.st_mtim.tv_sec * 1_000_000 + info.st_mtim.tv_nsec / 1000
}
