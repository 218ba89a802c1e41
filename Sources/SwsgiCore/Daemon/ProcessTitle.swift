import CLinux
import Glibc

/// Shows name in ps and top: the thread name (15 bytes), and the command line, written over
/// Apache's own argv (no longer than it was, as mod_wsgi does).
func setProcessTitle(_ name: String) {
    _ = name.withCString { swsgi_prctl(PR_SET_NAME, UInt(bitPattern: $0)) }
    guard let argv0 = swsgi_argv0() else { return }
    let fd = open("/proc/self/cmdline", O_RDONLY)
    guard fd >= 0 else { return }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let length = read(fd, &buffer, buffer.count)
    close(fd)
    guard length > 1 else { return }
    let bytes = Array(name.utf8.prefix(length - 1))
    memset(argv0, 0, length)
    for (i, byte) in bytes.enumerated() { argv0[i] = CChar(bitPattern: byte) }
}
