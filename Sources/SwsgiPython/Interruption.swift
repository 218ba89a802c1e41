import CPython
import Synchronization

/// How another thread interrupts the request a thread runs (interrupt-timeout): by raising
/// mod_wsgi.RequestTimeout in it, in the interpreter it runs the request in. The thread marks
/// the request's start and end holding that interpreter's GIL, and the interrupter checks the
/// mark holding it too, so the exception reaches the request it was meant for and no other.
package final class Interruption {
    private struct Running {
        let interpreter: Interpreter
        let request: ObjectIdentifier
        var raised = false
    }

    private let running = Mutex<Running?>(nil)
    /// PyThread_get_thread_ident() of the thread, the key of PyThreadState_SetAsyncExc.
    private var ident: UInt = 0

    package init() {}

    /// The thread starts running request in interpreter, whose GIL it holds.
    package func begin(_ interpreter: Interpreter, request: ObjectIdentifier) {
        ident = PyThread_get_thread_ident()
        running.withLock { $0 = Running(interpreter: interpreter, request: request) }
    }

    /// The request ended, the GIL still held: an exception raised too late to reach it is
    /// taken back, so that it cannot reach the thread's next request.
    package func end() {
        let raised = running.withLock { running in
            defer { running = nil }
            return running?.raised ?? false
        }
        if raised { PyThreadState_SetAsyncExc(ident, nil) }
    }

    /// From another thread: raises RequestTimeout in this one if it still runs request. Takes
    /// the interpreter's GIL, which may wait; whether it was raised.
    package func interrupt(request: ObjectIdentifier) -> Bool {
        guard let interpreter = running.withLock({ $0?.request == request ? $0?.interpreter : nil }),
              PythonRuntime.enter(group: interpreter.name) != nil else { return false }
        defer { PythonRuntime.leave() }
        return running.withLock { running in
            guard running?.request == request else { return false }
            running?.raised = true
            return PyThreadState_SetAsyncExc(ident, interpreter.requestTimeout) == 1
        }
    }
}
