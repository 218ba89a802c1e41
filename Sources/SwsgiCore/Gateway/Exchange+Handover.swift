import SwsgiPython

/// An accepted WebSocket leaves the gateway: the daemon's event loop takes the connection.
extension Exchange {
    func handOver() -> HandOver {
        if !headersSent, let problem = sendHeaders() {
            Python.raise(.runtime, problem)
            return .failed
        }
        guard let given = withTransport({ $0.handOver() }) else {
            let _: PyRef? = Python.expired()
            return .failed
        }
        guard let handed = given else { return .gone }
        return .given(fd: handed.fd, pending: handed.pending)
    }
}
