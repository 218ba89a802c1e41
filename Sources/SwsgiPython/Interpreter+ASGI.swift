import CPython
import SwsgiABI
import SwsgiConfig
import Synchronization

extension Interpreter {
    /// Held, without the GIL, while an interpreter makes the module: executing it imports
    /// asyncio, which lets other threads run, and they must not find it half made.
    private static let asgiModuleCreation = Mutex(())

    /// The WSGI-callable face of an ASGI app (`_swsgi_asgi.adapt`), the module made on first
    /// use; nil with an exception set. Timeouts in seconds (request-timeout 0: none).
    /// Each app's is kept, with the app: an address cannot name another app later.
    package func asgiAdapter(for app: borrowing PyRef, requestTimeout: Int, shutdownTimeout: Int) -> PyRef? {
        if let known = asgiAdapters[app.ptr] { return PyRef(borrowing: known) }
        guard let module = Self.loadedASGIModule() ?? Self.makeASGIModule(),
              let adapt = PyRef(PyObject_GetAttrString(module.ptr, "adapt")),
              let request = PyRef(PyLong_FromLong(requestTimeout)),
              let shutdown = PyRef(PyLong_FromLong(shutdownTimeout)),
              let adapter = PyRef(call(adapt.ptr, app.ptr, request.ptr, shutdown.ptr)) else { return nil }
        asgiAdapters[app.copy().take()] = adapter.copy().take()
        return adapter
    }

    /// On the worker thread once request-timeout passed: the exchange's `timed_out()`, the
    /// failure status to end with (nil: a 504 went out as the response); nil with an
    /// exception set in `raised`.
    package func asgiTimedOut(_ exchange: borrowing PyRef, raised: inout Bool) -> Int32? {
        guard let name = PyRef(PyUnicode_FromString("timed_out")), let result = PyRef(PyObject_CallMethodNoArgs(exchange.ptr, name.ptr)) else {
            raised = true
            return nil
        }
        return result.isNone ? nil : Int32(truncatingIfNeeded: PyLong_AsLong(result.ptr))
    }

    /// Makes this interpreter's event loop (the ASGI module's), which then watches the
    /// doorbell of http requests. false with an exception set.
    package func startASGILoop() -> Bool {
        guard let module = Self.loadedASGIModule() ?? Self.makeASGIModule(),
              let start = PyRef(PyObject_GetAttrString(module.ptr, "_event_loop")) else { return false }
        return PyRef(call(start.ptr)) != nil
    }

    /// The module once it is whole (its last line sets READY).
    static func loadedASGIModule() -> PyRef? {
        guard let name = PyRef(PyUnicode_FromString("_swsgi_asgi")), let module = PyRef(PyImport_GetModule(name.ptr)),
              PyObject_HasAttrString(module.ptr, "READY") == 1 else { return nil }
        return module
    }

    private static func makeASGIModule() -> PyRef? {
        guard PyErr_Occurred() == nil else { return nil }
        // The lock is only waited for without the GIL, so that its holder can take the GIL.
        let state = PyEval_SaveThread()
        let made: PyPtr? = asgiModuleCreation.withLock { _ in
            PyEval_RestoreThread(state)
            if let made = loadedASGIModule() { return made.take() }
            // The WebSocket half first: the ASGI module imports it.
            guard PyErr_Occurred() == nil,
                  let webSocketCode = PyRef(Py_CompileString(asgiWebSocketSource, "<swsgi-asgi-ws>", Py_file_input)),
                  PyRef(PyImport_ExecCodeModule("_swsgi_asgi_ws", webSocketCode.ptr)) != nil,
                  let code = PyRef(Py_CompileString(asgiSource, "<swsgi-asgi>", Py_file_input)) else { return nil }
            return PyRef(PyImport_ExecCodeModule("_swsgi_asgi", code.ptr))?.take()
        }
        return PyRef(made)
    }
}

extension PythonRuntime {
    /// At daemon process start: loads each app's script in its application group's
    /// interpreter and runs its lifespan startup, waiting for it (a failure is logged, and the
    /// app then answers 503). Timeouts in seconds, as for asgiAdapter.
    package static func startASGI(_ apps: [ScriptPreload], requestTimeout: Int, shutdownTimeout: Int) {
        guard case .ready = state else { return }
        for app in apps {
            guard let interpreter = enter(group: app.applicationGroup) else { continue }
            defer { leave() }
            guard let module = interpreter.preload(script: app.script, for: "WSGIScriptAlias interface=asgi") else { continue }
            guard let callable = PyRef(PyObject_GetAttrString(module.ptr, app.callable)) else {
                PyErr_Clear()
                log(SWSGI_LOG_ERR, "swsgi: target WSGI script '\(app.script)' does not contain ASGI application '\(app.callable)'")
                continue
            }
            guard let adapter = interpreter.asgiAdapter(for: callable, requestTimeout: requestTimeout, shutdownTimeout: shutdownTimeout),
                  let start = PyRef(PyObject_GetAttrString(adapter.ptr, "start")), PyRef(call(start.ptr)) != nil else {
                interpreter.logPendingException(handle: nil, log: log, message: "swsgi: cannot start ASGI app '\(app.script)'")
                continue
            }
        }
    }
}
