import SwsgiPython

extension PythonHost {
    /// The gateway's side of `_swsgi`.
    static var gateway: PythonHost {
        PythonHost(
            log: { Apache.log(nil, $0, $1) },
            apacheVersion: Apache.version,
            request: { Exchange.of($0) },
            runningRequest: { RequestThread.running?.exchange },
            requestData: { RequestThread.running?.requestDataObject() },
            processCounts: {
                (RequestThread.finished.load(ordering: .relaxed), RequestThread.active.load(ordering: .relaxed),
                 RequestThread.threads, RequestThread.processStart, Gateway.processes, Gateway.threads)
            },
            asgiDoorbell: { ASGILoop.named($0).watched() },
            asgiTake: { ASGILoop.named($0).take() })
    }
}
