// The system calls under FrameChannel. sendmsg/recvmsg rather than write/read: sendmsg
// takes MSG_NOSIGNAL (a vanished peer is EPIPE, not a SIGPIPE that kills the process) and
// carries SCM_RIGHTS; recvmsg always offers room for descriptors so one is never dropped.
import Glibc

/// Sends all of `header` then `payload`, `passing` a descriptor along with the first byte.
func sendAll(
    _ fd: Int32, _ header: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer,
    passing passedFd: Int32?, timeoutMilliseconds: Int32
) throws(ProtocolError) {
    let total = header.count + payload.count
    var sent = 0
    var pendingFd = passedFd
    while sent < total {
        var vectors = (iovec(), iovec())
        var control: (UInt64, UInt64, UInt64) = (0, 0, 0)  // CMSG_SPACE(4) = 24, size_t-aligned
        let result = withUnsafeMutableBytes(of: &control) { control in
            withUnsafeMutablePointer(to: &vectors) {
                $0.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                    var count = 0
                    if sent < header.count {
                        vector[0] = iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress! + sent), iov_len: header.count - sent)
                        count = 1
                    }
                    let payloadSent = max(0, sent - header.count)
                    if payloadSent < payload.count {
                        vector[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress! + payloadSent), iov_len: payload.count - payloadSent)
                        count += 1
                    }
                    var message = msghdr()
                    message.msg_iov = vector
                    message.msg_iovlen = count
                    if let pendingFd {
                        var header = cmsghdr()
                        header.cmsg_len = controlHeaderSize + 4
                        header.cmsg_level = SOL_SOCKET
                        header.cmsg_type = Int32(SCM_RIGHTS)
                        control.storeBytes(of: header, as: cmsghdr.self)
                        control.storeBytes(of: pendingFd, toByteOffset: controlHeaderSize, as: Int32.self)
                        message.msg_control = control.baseAddress
                        message.msg_controllen = control.count
                    }
                    return sendmsg(fd, &message, Int32(MSG_NOSIGNAL) | blockingFlag(timeoutMilliseconds))
                }
            }
        }
        if result > 0 {
            sent += result
            pendingFd = nil  // the kernel attached it to the bytes just sent
        } else if result < 0 && errno == EINTR {
            continue
        } else if result == 0 || errno == EAGAIN || errno == EWOULDBLOCK {
            try waitUntilReady(fd, Int16(POLLOUT), timeoutMilliseconds: timeoutMilliseconds)
        } else {
            throw .system(errno)
        }
    }
}

/// Reads what is available into `buffer` (not empty); returns 0 at end of stream. Descriptors
/// that arrive are appended to `descriptors` (close-on-exec), however the call ends. Not
/// waiting, nothing available yet is .timedOut at once. kernelTimeout: the socket blocks and
/// has SO_RCVTIMEO set to the timeout (setReceiveTimeout), so recvmsg itself waits.
func receiveSome(
    _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, descriptors: inout [Int32],
    timeoutMilliseconds: Int32, kernelTimeout: Bool = false, waiting: Bool = true
) throws(ProtocolError) -> Int {
    let flags = !waiting ? Int32(MSG_DONTWAIT) : kernelTimeout ? 0 : blockingFlag(timeoutMilliseconds)
    while true {
        var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        var control: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // room for 4 descriptors
        var truncated = false
        let result = withUnsafeMutableBytes(of: &control) { control in
            withUnsafeMutablePointer(to: &vector) { vector in
                var message = msghdr()
                message.msg_iov = vector
                message.msg_iovlen = 1
                message.msg_control = control.baseAddress
                message.msg_controllen = control.count
                let result = recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC) | flags)
                if result >= 0 {
                    collectDescriptors(UnsafeRawBufferPointer(rebasing: control[..<Int(message.msg_controllen)]), into: &descriptors)
                    truncated = message.msg_flags & Int32(MSG_CTRUNC) != 0
                }
                return result
            }
        }
        // The kernel discards (closes) descriptors that did not fit: the stream has lost one.
        if truncated { throw .malformed("too many file descriptors in one message") }
        if result >= 0 { return result }
        switch errno {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK:
            guard waiting, !kernelTimeout else { throw .timedOut }
            try waitUntilReady(fd, Int16(POLLIN), timeoutMilliseconds: timeoutMilliseconds)
        default: throw .system(errno)
        }
    }
}

/// Waits until `fd` is ready for `events`; a timeout of 0 waits forever.
private func waitUntilReady(_ fd: Int32, _ events: Int16, timeoutMilliseconds: Int32) throws(ProtocolError) {
    var pollDescriptor = pollfd(fd: fd, events: events, revents: 0)
    while true {
        let ready = poll(&pollDescriptor, 1, timeoutMilliseconds == 0 ? -1 : timeoutMilliseconds)
        if ready > 0 { return }
        if ready == 0 { throw .timedOut }
        if errno != EINTR { throw .system(errno) }
    }
}

/// SO_RCVTIMEO: each blocking read of fd waits at most this long; false if it cannot be set.
func setReceiveTimeout(_ fd: Int32, milliseconds: Int32) -> Bool {
    var limit = timeval(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size)) == 0
}

/// Without a timeout a call may block in the kernel (one syscall); with one it must not,
/// so that poll can bound the wait.
private func blockingFlag(_ timeoutMilliseconds: Int32) -> Int32 {
    timeoutMilliseconds == 0 ? 0 : Int32(MSG_DONTWAIT)
}

/// CMSG_LEN(0): `struct cmsghdr`, already size_t-aligned on Linux.
private let controlHeaderSize = MemoryLayout<cmsghdr>.size

/// Walks the control messages as CMSG_FIRSTHDR/CMSG_NXTHDR would (macros Swift cannot import).
private func collectDescriptors(_ control: UnsafeRawBufferPointer, into descriptors: inout [Int32]) {
    let alignment = MemoryLayout<Int>.size
    var offset = 0
    while control.count - offset >= controlHeaderSize {
        let header = control.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
        let length = Int(header.cmsg_len)
        guard length >= controlHeaderSize, length <= control.count - offset else { return }
        if header.cmsg_level == SOL_SOCKET && header.cmsg_type == Int32(SCM_RIGHTS) {
            for index in 0..<(length - controlHeaderSize) / 4 {
                descriptors.append(control.loadUnaligned(fromByteOffset: offset + controlHeaderSize + 4 * index, as: Int32.self))
            }
        }
        offset += (length + alignment - 1) & ~(alignment - 1)
    }
}
