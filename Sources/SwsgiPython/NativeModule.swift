import CPython
import Glibc
import SwsgiABI

/// `_swsgi`: the few calls the Python half of the gateway makes into the core. Those of a
/// request take its handle (`RequestHandle`) first; `log` also takes None, for the server's
/// log. `mod_wsgi_functions` makes the functions of `import mod_wsgi` (`ModWSGIFunctions`).
/// A built-in module with multi-phase initialisation: each interpreter that imports it gets
/// its own module object and state (its handle type), so it may run in sub-interpreters
/// with their own GIL.
enum NativeModule {
    /// Makes `import _swsgi` work in every interpreter; before Python is initialised.
    static func register() {
        PyImport_AppendInittab("_swsgi") { PyModuleDef_Init(NativeModule.definition) }
    }

    /// The handle type of an interpreter's `_swsgi` (borrowed: the module keeps it).
    static func handleType(of module: PyPtr) -> PyPtr? {
        guard let state = state(of: module)?.pointee else {
            PyErr_SetString(PyExc_TypeError, "swsgi: '_swsgi' is not initialised")
            return nil
        }
        return state
    }

    /// The module state: the interpreter's handle type.
    private static func state(of module: PyPtr) -> UnsafeMutablePointer<PyPtr?>? {
        PyModule_GetState(module)?.assumingMemoryBound(to: PyPtr?.self)
    }

    private static let definition: UnsafeMutablePointer<PyModuleDef> = {
        let def = UnsafeMutablePointer<PyModuleDef>.allocate(capacity: 1)
        def.initialize(to: PyModuleDef())
        def.pointee.m_base = swsgi_py_moduledef_head()
        def.pointee.m_name = UnsafePointer(strdup("_swsgi"))
        def.pointee.m_size = MemoryLayout<PyPtr?>.size
        def.pointee.m_methods = methods
        def.pointee.m_slots = slots
        def.pointee.m_traverse = { module, visit, arg in
            guard let type = state(of: module!)?.pointee else { return 0 }
            return visit!(type, arg)
        }
        def.pointee.m_clear = { module in
            clear(module!)
            return 0
        }
        def.pointee.m_free = { module in clear(module!.assumingMemoryBound(to: PyObject.self)) }
        return def
    }()

    private static func clear(_ module: PyPtr) {
        guard let state = state(of: module), let type = state.pointee else { return }
        state.pointee = nil
        swsgi_py_decref(type)
    }

    private static let slots: UnsafeMutablePointer<PyModuleDef_Slot> = {
        let slots = UnsafeMutablePointer<PyModuleDef_Slot>.allocate(capacity: 3)
        let exec: @convention(c) (PyPtr?) -> Int32 = { module in
            guard let type = RequestHandle.makeType(module: module!) else { return -1 }
            state(of: module!)!.pointee = type
            return 0
        }
        slots[0] = PyModuleDef_Slot(slot: Py_mod_exec, value: unsafeBitCast(exec, to: UnsafeMutableRawPointer.self))
        let more = Int(swsgi_py_per_interpreter_gil_slot(&slots[1]))
        slots[1 + more] = PyModuleDef_Slot(slot: 0, value: nil)
        return slots
    }()

    private static let methods: UnsafeMutablePointer<PyMethodDef> = {
        let fast = { (function: swsgi_fastcall) in swsgi_py_fastcall_cast(function)! }
        let table: [(String, PyCFunction, Int32)] = [
            ("read", fast(read), METH_FASTCALL), ("write", fast(write), METH_FASTCALL), ("log", fast(log), METH_FASTCALL),
            ("sent", fast(sent), METH_FASTCALL), ("hand_over", fast(handOver), METH_FASTCALL),
            ("request_data", requestData, METH_NOARGS), ("process_counts", processCounts, METH_NOARGS),
            ("metrics", metrics, METH_NOARGS), ("process_usage", processUsage, METH_NOARGS),
            ("mod_wsgi_functions", { _, support in ModWSGIFunctions.make(support: support!) }, METH_O),
            ("asgi_doorbell", asgiDoorbell, METH_O), ("asgi_take", asgiTake, METH_O),
            ("asgi_write", fast(asgiWrite), METH_FASTCALL), ("asgi_send_file", fast(asgiSendFile), METH_FASTCALL),
            ("asgi_post", fast(asgiPost), METH_FASTCALL), ("asgi_end", fast(asgiEnd), METH_FASTCALL),
        ]
        return methodTable(table)
    }()

    /// The arguments of a call, checked for their number; nil with an exception set.
    private static func arguments(_ args: UnsafePointer<PyPtr?>?, _ count: Int, _ expected: Int, _ name: String) -> UnsafePointer<PyPtr?>? {
        guard let args, count == expected else {
            PyErr_SetString(PyExc_TypeError, "_swsgi.\(name)() takes exactly \(expected) argument\(expected == 1 ? "" : "s") (\(count) given)")
            return nil
        }
        return args
    }

    /// The live request of handle: nil with an exception set when handle is not one of this
    /// interpreter's handles (TypeError) or its request has finished (RuntimeError);
    /// `.some(nil)` for None when allowed.
    private static func exchange(_ module: PyPtr?, _ handle: PyPtr, noneAllowed: Bool = false) -> (any PythonRequest)?? {
        if noneAllowed, handle == swsgi_py_none() { return .some(nil) }
        guard let type = handleType(of: module!), let target = RequestHandle.target(of: handle, type: type) else { return nil }
        guard let target else { return Python.expired() }
        return .some(PythonRuntime.host.request(target))
    }

    /// read(h, size, partial): up to size body bytes (all when size < 0); with partial, what
    /// one read from the client gives.
    private static let read: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 3, "read"), let found = exchange(module, args[0]!),
              let exchange = found else { return nil }
        let size = PyLong_AsSsize_t(args[1]!)
        if size == -1, PyErr_Occurred() != nil { return nil }
        let partial = PyObject_IsTrue(args[2]!)
        if partial < 0 { return nil }
        return exchange.readBody(size: size, partial: partial == 1)?.take()
    }

    /// write(h, data): the write callable of start_response.
    private static let write: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 2, "write"), let found = exchange(module, args[0]!),
              let exchange = found, exchange.writeFromApp(PyRef(borrowing: args[1]!)) else { return nil }
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// log(h, level, text): one line into the request's error log, or the server's (h None).
    private static let log: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 3, "log"), let found = exchange(module, args[0]!, noneAllowed: true) else { return nil }
        let level = PyLong_AsLong(args[1]!)
        if level == -1, PyErr_Occurred() != nil { return nil }
        guard (Int(SWSGI_LOG_CRIT.rawValue)...Int(SWSGI_LOG_DEBUG.rawValue)).contains(level) else {
            PyErr_SetString(PyExc_ValueError, "swsgi: no such log level: \(level)")
            return nil
        }
        guard let text = PyUnicode_AsUTF8(args[2]!) else { return nil }
        // sys.stdout and sys.stderr have no request: the one this thread runs, if any.
        if (found ?? PythonRuntime.host.runningRequest())?.logLine(Int32(level), text) != true {
            if found != nil { return Python.expired() }
            withoutGIL { PythonRuntime.host.log(Int32(level), text) }
        }
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// sent(h): whether the response headers went out (start_response's exc_info rule).
    private static let sent: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 1, "sent"), let found = exchange(module, args[0]!),
              let exchange = found else { return nil }
        return swsgi_py_bool(exchange.headersSent ? 1 : 0)
    }

    /// hand_over(h): the client connection of an accepted WebSocket (PythonRequest.handOver),
    /// (descriptor, bytes read from it already), or None when the client is gone.
    private static let handOver: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 1, "hand_over"), let found = exchange(module, args[0]!),
              let exchange = found else { return nil }
        switch exchange.handOver() {
        case .given(let fd, let pending):
            let bytes = pending.withUnsafeBytes { PyBytes_FromStringAndSize($0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
            guard let pair = tuple([PyLong_FromLong(Int(fd)), bytes]) else {
                close(fd)
                return nil
            }
            return pair
        case .gone:
            return PyRef(borrowing: swsgi_py_none()).take()
        case .failed:
            return nil
        }
    }

    /// asgi_doorbell(group): the descriptor the group's event loop watches (ASGISource).
    private static let asgiDoorbell: PyCFunction = { _, group in
        guard let name = PyUnicode_AsUTF8(group!) else { return nil }
        return PyLong_FromLong(Int(PythonRuntime.host.asgiDoorbell(String(cString: name))))
    }

    /// asgi_take(group): on the group's event loop, starts the http requests that arrived.
    private static let asgiTake: PyCFunction = { _, group in
        guard let name = PyUnicode_AsUTF8(group!) else { return nil }
        PythonRuntime.host.asgiTake(String(cString: name))
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// asgi_write(h, data, may_block): True when sent, None when it would wait (only without
    /// may_block: nothing was sent), False when the response cannot go on.
    private static let asgiWrite: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 3, "asgi_write"), let found = exchange(module, args[0]!),
              let exchange = found else { return nil }
        let mayBlock = PyObject_IsTrue(args[2]!)
        if mayBlock < 0 { return nil }
        switch exchange.asgiWrite(PyRef(borrowing: args[1]!), mayBlock: mayBlock == 1) {
        case .sent: return swsgi_py_bool(1)
        case .failed: return swsgi_py_bool(0)
        case .wouldWait: return PyRef(borrowing: swsgi_py_none()).take()
        case .error: return nil
        }
    }

    /// asgi_send_file(h, file): whether the file went as a file (False: not a regular file).
    private static let asgiSendFile: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 2, "asgi_send_file"), let found = exchange(module, args[0]!),
              let exchange = found else { return nil }
        return swsgi_py_bool(exchange.asgiSendFile(PyRef(borrowing: args[1]!)) ? 1 : 0)
    }

    /// asgi_post(h, job): job() is called on the worker thread that holds the request.
    private static let asgiPost: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 2, "asgi_post"), let found = exchange(module, args[0]!),
              let exchange = found, exchange.asgiPost(PyRef(borrowing: args[1]!)) else { return nil }
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// asgi_end(h, failure): the request ends; failure None when its response is whole, else
    /// the HTTP status it failed with.
    private static let asgiEnd: swsgi_fastcall = { module, args, count in
        guard let args = arguments(args, count, 2, "asgi_end"), let found = exchange(module, args[0]!),
              let exchange = found else { return nil }
        var failure: Int32?
        if args[1]! != swsgi_py_none() {
            let status = PyLong_AsLong(args[1]!)
            if status == -1, PyErr_Occurred() != nil { return nil }
            guard let value = Int32(exactly: status) else {
                PyErr_SetString(PyExc_ValueError, "swsgi: no such status: \(status)")
                return nil
            }
            failure = value
        }
        guard exchange.asgiEnd(failure) else { return nil }
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// request_data(): mod_wsgi.request_data, the running request's dict.
    static let requestData: PyCFunction = { _, _ in
        guard let data = PythonRuntime.host.requestData()?.take() else {
            PyErr_SetString(PyExc_RuntimeError, "no active request for thread")
            return nil
        }
        return data
    }

    /// metrics(): the server's metrics as the swsgi-metrics endpoint gives them (text format),
    /// or None where there are none (outside Apache's processes).
    private static let metrics: PyCFunction = { _, _ in
        var length = 0
        guard let text = withoutGIL({ swsgi_metrics_exposition(0, &length) }) else { return PyRef(borrowing: swsgi_py_none()).take() }
        defer { free(text) }
        return PyUnicode_FromStringAndSize(text, length)
    }

    /// process_usage(): this process's (requests its gateway ran, their busy microseconds,
    /// busy threads, worker threads), or None without a metrics slot.
    private static let processUsage: PyCFunction = { _, _ in
        var served: UInt64 = 0, busyTime: UInt64 = 0, busy: Int32 = 0, threads: Int32 = 0
        guard swsgi_metrics_process(&served, &busyTime, &busy, &threads) != 0 else { return PyRef(borrowing: swsgi_py_none()).take() }
        return tuple([PyLong_FromUnsignedLongLong(served), PyLong_FromUnsignedLongLong(busyTime),
                      PyLong_FromLong(Int(busy)), PyLong_FromLong(Int(threads))])
    }

    /// A tuple of new references (all consumed); nil with an exception set.
    private static func tuple(_ values: [PyPtr?]) -> PyPtr? {
        guard values.allSatisfy({ $0 != nil }), let tuple = PyTuple_New(values.count) else {
            values.forEach { swsgi_py_xdecref($0) }
            return nil
        }
        for (i, value) in values.enumerated() { PyTuple_SetItem(tuple, i, value) }
        return tuple
    }

    /// process_counts(): (requests finished, requests running, threads that ran requests,
    /// process start time, maximum processes, threads per process), for mod_wsgi's module.
    private static let processCounts: PyCFunction = { _, _ in
        let counts = PythonRuntime.host.processCounts()
        return tuple([PyLong_FromLong(counts.finished), PyLong_FromLong(counts.active), PyLong_FromLong(counts.threads),
                      PyFloat_FromDouble(counts.start), PyLong_FromLong(counts.processes), PyLong_FromLong(counts.threadsPerProcess)])
    }
}
