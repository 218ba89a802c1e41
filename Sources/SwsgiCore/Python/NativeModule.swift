import CPython

/// `_swsgi`: the few calls the Python half of the gateway makes into the core. Each takes
/// the request handle `h` first: the address of the live Exchange, or 0 (none / finished).
enum NativeModule {
    /// Creates the module in the current interpreter (a new object per interpreter).
    static func create() -> PyPtr? {
        PyModule_Create2(definition, PYTHON_API_VERSION)
    }

    private static let definition: UnsafeMutablePointer<PyModuleDef> = {
        let def = UnsafeMutablePointer<PyModuleDef>.allocate(capacity: 1)
        def.initialize(to: PyModuleDef())
        def.pointee.m_base = swsgi_py_moduledef_head()
        def.pointee.m_name = UnsafePointer(strdup("_swsgi"))
        def.pointee.m_size = -1
        def.pointee.m_methods = methods
        return def
    }()

    private static let methods: UnsafeMutablePointer<PyMethodDef> = {
        let table: [(String, swsgi_fastcall)] = [("read", read), ("write", write), ("log", log), ("sent", sent),
                                                  ("request_data", requestData), ("process_counts", processCounts)]
        let defs = UnsafeMutablePointer<PyMethodDef>.allocate(capacity: table.count + 1)
        for (i, (name, function)) in table.enumerated() {
            defs[i] = PyMethodDef(ml_name: UnsafePointer(strdup(name)), ml_meth: swsgi_py_fastcall_cast(function),
                                  ml_flags: METH_FASTCALL, ml_doc: nil)
        }
        defs[table.count] = PyMethodDef()
        return defs
    }()

    private static func exchange(_ args: UnsafePointer<PyPtr?>?, _ count: Int, expected: Int) -> Exchange?? {
        guard let args, count == expected, let handle = args[0] else {
            PyErr_SetString(PyExc_TypeError, "bad arguments to an internal swsgi call")
            return nil
        }
        guard let raw = PyLong_AsVoidPtr(handle) else {
            if PyErr_Occurred() != nil { return nil }
            return .some(nil)
        }
        return .some(Unmanaged<Exchange>.fromOpaque(raw).takeUnretainedValue())
    }

    private static func finished() -> PyPtr? {
        PyErr_SetString(PyExc_OSError, "the WSGI request has already finished")
        return nil
    }

    /// read(h, size, partial): up to size body bytes (all when size < 0); with partial, what
    /// one read from the client gives.
    private static let read: swsgi_fastcall = { _, args, count in
        guard let found = exchange(args, count, expected: 3) else { return nil }
        guard let exchange = found else { return finished() }
        let size = PyLong_AsSsize_t(args![1]!)
        if size == -1, PyErr_Occurred() != nil { return nil }
        return exchange.readBody(size: size, partial: PyObject_IsTrue(args![2]!) == 1)
    }

    /// write(h, data): the write callable of start_response.
    private static let write: swsgi_fastcall = { _, args, count in
        guard let found = exchange(args, count, expected: 2) else { return nil }
        guard let exchange = found else { return finished() }
        guard exchange.writeFromApp(args![1]!) else { return nil }
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// log(h, level, text): one line into the request's (or the server's) error log.
    private static let log: swsgi_fastcall = { _, args, count in
        guard let found = exchange(args, count, expected: 3) else { return nil }
        let level = Int32(truncatingIfNeeded: PyLong_AsLong(args![1]!))
        guard let text = PyUnicode_AsUTF8(args![2]!) else { return nil }
        // sys.stdout and sys.stderr have no request: the one this thread runs, if any.
        let transport = found?.transport ?? RequestThread.running?.transport
        withoutGIL {
            if let transport { transport.log(level, text) } else { Apache.log(nil, level, text) }
        }
        return PyRef(borrowing: swsgi_py_none()).take()
    }

    /// sent(h): whether the response headers went out (start_response's exc_info rule).
    private static let sent: swsgi_fastcall = { _, args, count in
        guard let found = exchange(args, count, expected: 1) else { return nil }
        return swsgi_py_bool(found?.headersSent ?? true ? 1 : 0)
    }

    /// request_data(): mod_wsgi.request_data, the running request's dict.
    private static let requestData: swsgi_fastcall = { _, _, _ in
        guard let data = RequestThread.running?.requestDataObject() else {
            PyErr_SetString(PyExc_RuntimeError, "no active request for thread")
            return nil
        }
        return data
    }

    /// process_counts(): (requests finished, requests running, threads that ran requests,
    /// process start time, maximum processes, threads per process), for mod_wsgi's module.
    private static let processCounts: swsgi_fastcall = { _, _, _ in
        let values = [PyLong_FromLong(RequestThread.finished.load(ordering: .relaxed)),
                      PyLong_FromLong(RequestThread.active.load(ordering: .relaxed)),
                      PyLong_FromLong(RequestThread.threads), PyFloat_FromDouble(RequestThread.processStart),
                      PyLong_FromLong(Gateway.processes), PyLong_FromLong(Gateway.threads)]
        guard values.allSatisfy({ $0 != nil }), let tuple = PyTuple_New(values.count) else {
            values.forEach { swsgi_py_xdecref($0) }
            return nil
        }
        for (i, value) in values.enumerated() { PyTuple_SetItem(tuple, i, value) }
        return tuple
    }
}
