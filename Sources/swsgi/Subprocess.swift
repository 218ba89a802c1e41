import Glibc

/// Who a program runs as: doctor asks Python as the user each process group runs as.
struct Identity {
    let uid: uid_t
    let gid: gid_t
    /// The supplementary groups; nil: the user's own (initgroups).
    let groups: [gid_t]?
    let name: String?
}

/// A program's exit status and what it wrote.
struct Finished {
    let status: Int32
    let output: String
    let errors: String
    var succeeded: Bool { status == 0 }
}

/// Runs arguments (the first is the program's path) with environment, optionally as identity
/// and in directory, and collects what it writes to stdout and stderr.
func execute(_ arguments: [String], environment: [String]? = nil, as identity: Identity? = nil,
         in directory: String? = nil) -> Finished {
    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
        return Finished(status: -1, output: "", errors: "pipe: \(String(cString: strerror(errno)))")
    }
    // Everything the child needs is made before fork: it only calls async-signal-safe functions.
    let argv = CStrings(arguments)
    let envp = environment.map(CStrings.init)
    let name = identity?.name.flatMap { strdup($0) }
    let cwd = directory.flatMap { strdup($0) }
    defer { free(name); free(cwd) }
    let child = fork()
    if child == 0 {
        dup2(outPipe[1], 1)
        dup2(errPipe[1], 2)
        for fd in outPipe + errPipe { close(fd) }
        if let identity {
            let dropped: Bool
            if let groups = identity.groups {
                dropped = groups.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) } == 0
            } else {
                dropped = name.map { initgroups($0, identity.gid) == 0 } ?? (setgroups(0, nil) == 0)
            }
            guard dropped, setgid(identity.gid) == 0, setuid(identity.uid) == 0 else { _exit(126) }
        }
        if let cwd, chdir(cwd) != 0 { _exit(126) }
        if let envp { execve(argv.pointers[0]!, argv.pointers, envp.pointers) } else { execv(argv.pointers[0]!, argv.pointers) }
        _exit(127)
    }
    close(outPipe[1])
    close(errPipe[1])
    let (output, errors) = readBoth(outPipe[0], errPipe[0])
    close(outPipe[0])
    close(errPipe[0])
    guard child > 0 else { return Finished(status: -1, output: "", errors: "fork: \(String(cString: strerror(errno)))") }
    return Finished(status: waitFor(child), output: output, errors: errors)
}

/// The exit status of child (128 + signal when killed), after EINTR.
func waitFor(_ child: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 {
        if errno != EINTR { return -1 }
    }
    if status & 0x7f == 0 { return (status >> 8) & 0xff }
    return 128 + (status & 0x7f)
}

/// Reads two pipes to their ends at once, so that neither fills up while the other is read.
private func readBoth(_ first: Int32, _ second: Int32) -> (String, String) {
    var fds = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
    var data: [[UInt8]] = [[], []]
    var buffer = [UInt8](repeating: 0, count: 65536)
    while fds.contains(where: { $0.fd >= 0 }) {
        if poll(&fds, nfds_t(fds.count), -1) < 0 {
            if errno == EINTR { continue }
            break
        }
        for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
            let got = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
            if got > 0 {
                data[index] += buffer[..<got]
            } else if got == 0 || errno != EINTR {
                fds[index].fd = -1
            }
        }
    }
    return (String(decoding: data[0], as: UTF8.self), String(decoding: data[1], as: UTF8.self))
}

/// A NULL-terminated array of C strings that frees itself.
final class CStrings {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit { pointers.forEach { free($0) } }
}
