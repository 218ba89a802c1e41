import CLinux
import Glibc

/// "A worker is free", from a worker thread to the poll loop, which watches the eventfd.
final class Doorbell {
    let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))

    func ring() {
        var one: UInt64 = 1
        _ = write(fd, &one, MemoryLayout<UInt64>.size)
    }

    /// Quiets it again, after the loop woke.
    func answer() {
        var count: UInt64 = 0
        _ = read(fd, &count, MemoryLayout<UInt64>.size)
    }
}
