import CPython
import Glibc
import SwsgiABI
import SwsgiHTTP

/// One Python interpreter of this process: the main one (application group %{GLOBAL}) or a
/// sub-interpreter for a named group. Holds the objects of `_swsgi_support` the gateway calls,
/// and the WSGI scripts loaded into it. Only touched holding its GIL (its own one, or the one
/// it shares with the main interpreter).
package final class Interpreter {
    let index: Int
    package let name: String
    /// The metrics' entry of its application group.
    package let metricsEntry: Int32
    let state: OpaquePointer
    /// The type of the request handles of this interpreter (`RequestHandle`).
    let handleType: PyPtr
    /// start_response's object (_h, status, headers), wsgi.input (_h, _buf) and wsgi.errors
    /// (_h, _level, name, _buf, _lock).
    let requestClass: SlotClass
    let inputClass: SlotClass
    let logClass: SlotClass
    package let fileWrapperType: PyConstant
    let loadScript: PyPtr
    let dispatchScript: PyPtr
    let logException: PyPtr
    /// mod_wsgi's event_callbacks list and the support functions that publish the events.
    let eventCallbacks: PyPtr
    let requestStarted: PyPtr
    let requestFinished: PyPtr
    let processStoppingEvent: PyPtr
    /// mod_wsgi.RequestTimeout: what an interrupted request is raised (interrupt-timeout).
    let requestTimeout: PyPtr
    /// The shared no-op lock of wsgi.errors objects.
    let noLock: PyPtr
    package let names: Names
    package let environKeys = KeyCache()
    package let environTemplate = EnvironTemplate()
    /// The ASGI layer's adapter of each ASGI app (owned references of both), and what its
    /// scopes share (made with the first).
    var asgiAdapters: [PyPtr: PyPtr] = [:]
    var asgi: ASGIObjects?
    /// Loaded WSGI callables by script path: the script's mtime, the callable's name.
    private var scripts: [String: [(mtime: Int, name: String, callable: PyPtr)]] = [:]

    /// Sets up the current interpreter: `_swsgi`, `_swsgi_support`, the site directories.
    init?(index: Int, name: String, sitePath: [String]) {
        guard let code = PyRef(Py_CompileString(supportSource, "<swsgi>", Py_file_input)),
              let support = PyRef(PyImport_ExecCodeModule("_swsgi_support", code.ptr)),
              let native = PyRef(PyImport_ImportModule("_swsgi")),
              let handleType = NativeModule.handleType(of: native.ptr) else { return nil }
        func attribute(_ name: String) -> PyRef? { PyRef(PyObject_GetAttrString(support.ptr, name)) }
        guard let request = attribute("Request"), let input = attribute("Input"), let log = attribute("Log"),
              let wrapper = attribute("FileWrapper"), let load = attribute("load_script"), let dispatch = attribute("dispatch"),
              let logException = attribute("log_exception"), let addSiteDirs = attribute("add_site_dirs"),
              let noLock = attribute("NO_LOCK"),
              let group = PyRef(PyUnicode_DecodeFSDefault(name)),
              let processGroup = PyRef(PyUnicode_FromString(PythonRuntime.processGroup)),
              PyObject_SetAttrString(support.ptr, "PROCESS_GROUP", processGroup.ptr) == 0,
              PyObject_SetAttrString(support.ptr, "APPLICATION_GROUP", group.ptr) == 0,
              let setup = attribute("setup_mod_wsgi"), let version = PyRef(intTuple(modWsgiVersionNumbers)),
              let eventCallbacks = PyRef(call(setup.ptr, version.ptr, processGroup.ptr, group.ptr)),
              let requestStarted = attribute("request_started"), let requestFinished = attribute("request_finished"),
              let processStopping = attribute("process_stopping"),
              let requestTimeout = attribute("RequestTimeout"),
              let requestClass = SlotClass(request.ptr, slots: ["_h", "status", "headers"]),
              let inputClass = SlotClass(input.ptr, slots: ["_h", "_buf"]),
              let logClass = SlotClass(log.ptr, slots: ["_h", "_level", "name", "_buf", "_lock"]) else { return nil }
        if !sitePath.isEmpty {
            guard let list = PyRef(PyList_New(0)) else { return nil }
            for dir in sitePath {
                guard let entry = PyRef(PyUnicode_DecodeFSDefault(dir)), PyList_Append(list.ptr, entry.ptr) == 0 else { return nil }
            }
            guard PyRef(PyObject_CallOneArg(addSiteDirs.ptr, list.ptr)) != nil else { return nil }
        }
        // Kept for the interpreter's life, which is the process's.
        self.index = index
        self.name = name
        metricsEntry = swsgi_metrics_application_group(name)
        self.state = PyInterpreterState_Get()
        self.handleType = PyRef(borrowing: handleType).take()
        // Kept for the interpreter's life too, whatever becomes of the support module.
        _ = (request.take(), input.take(), log.take())
        self.requestClass = requestClass
        self.inputClass = inputClass
        self.logClass = logClass
        self.fileWrapperType = PyConstant(wrapper.take())
        self.loadScript = load.take()
        self.dispatchScript = dispatch.take()
        self.logException = logException.take()
        self.eventCallbacks = eventCallbacks.take()
        self.requestStarted = requestStarted.take()
        self.requestFinished = requestFinished.take()
        self.processStoppingEvent = processStopping.take()
        self.requestTimeout = requestTimeout.take()
        self.noLock = noLock.take()
        self.names = Names()
    }

    /// The WSGI callable of a script, (re)loading the script when its mtime changed.
    /// nil with a Python exception set, or with `missing` set when the callable is absent.
    /// A new reference: a reload by another thread may drop the old callable meanwhile.
    package func application(script: String, mtime: Int, callable: String, missing: inout Bool) -> PyRef? {
        if let cached = scripts[script]?.first(where: { $0.name == callable }), cached.mtime == mtime {
            return PyRef(borrowing: cached.callable)
        }
        guard let path = PyRef(PyUnicode_DecodeFSDefault(script)),
              let time = PyRef(PyLong_FromLong(mtime)),
              let module = PyRef(call(loadScript, path.ptr, time.ptr)) else { return nil }
        guard let app = PyObject_GetAttrString(module.ptr, callable) else {
            PyErr_Clear()
            missing = true
            return nil
        }
        // Read after the load, which lets the GIL go: a thread that loaded meanwhile has
        // replaced (and released) the entry this one saw before.
        var loaded = scripts[script] ?? []
        if let old = loaded.firstIndex(where: { $0.name == callable }) { swsgi_py_decref(loaded.remove(at: old).callable) }
        loaded.append((mtime, callable, app))
        scripts[script] = loaded
        return PyRef(borrowing: app)
    }

    /// WSGIDispatchScript: the answers of its process_group, application_group and
    /// callable_object for environ (nil where it has none or says None); nil with an
    /// exception set.
    package func dispatch(script: String, mtime: Int, environ: borrowing PyRef) -> [String?]? {
        guard let path = PyRef(PyUnicode_DecodeFSDefault(script)), let time = PyRef(PyLong_FromLong(mtime)),
              let answers = PyRef(call(dispatchScript, path.ptr, time.ptr, environ.ptr)) else { return nil }
        var result: [String?] = []
        for index in 0..<3 {
            let answer = answers.tupleItem(index)
            if answer.ptr == swsgi_py_none() {
                result.append(nil)
            } else {
                guard let text = PyUnicode_AsUTF8(answer.ptr) else { return nil }
                result.append(String(cString: text))
            }
        }
        return result
    }

    /// Whether an app called mod_wsgi.subscribe_events (GIL held).
    package var hasEventSubscribers: Bool { PyList_Size(eventCallbacks) > 0 }

    /// mod_wsgi's request_started event: the app to call instead (nil with an exception set).
    package func requestStarted(environ: borrowing PyRef, application: borrowing PyRef) -> PyRef? {
        PyRef(call(requestStarted, environ.ptr, application.ptr))
    }

    /// mod_wsgi's request_finished event; false with an exception set.
    package func requestFinished(environ: borrowing PyRef, written: Int64) -> Bool {
        guard let written = PyRef(written) else { return false }
        return PyRef(call(requestFinished, environ.ptr, written.ptr)) != nil
    }

    /// mod_wsgi's process_stopping event (GIL held); a failure is logged.
    func processStopping(reason: String) {
        guard let text = PyRef(PyUnicode_FromString(reason)), PyRef(call(processStoppingEvent, text.ptr)) != nil else {
            logPendingException(handle: nil, log: PythonRuntime.log, message: "swsgi: the process_stopping event failed")
            return
        }
    }

    /// Whether this interpreter loaded script's callable from a version other than mtime's.
    package func loadedAnother(script: String, mtime: Int, callable: String) -> Bool {
        scripts[script]?.first(where: { $0.name == callable }).map { $0.mtime != mtime } ?? false
    }

    /// Loads script now, as a request would, for the directive that asked: the module, or nil
    /// (logged) when it failed.
    func preload(script: String, for directive: String) -> PyRef? {
        let mtime = scriptModificationTime(script) ?? 0
        guard let path = PyRef(PyUnicode_DecodeFSDefault(script)), let time = PyRef(PyLong_FromLong(mtime)),
              let module = PyRef(call(loadScript, path.ptr, time.ptr)) else {
            logPendingException(handle: nil, log: PythonRuntime.log,
                                message: "swsgi: \(directive) '\(script)' failed in application group '\(name)'")
            return nil
        }
        return module
    }

    /// A new handle (`RequestHandle`) for the live request at target.
    package func makeHandle(target: UnsafeMutableRawPointer) -> PyRef? {
        RequestHandle.make(type: handleType, target: target)
    }

    /// The request's start_response object, wsgi.input and wsgi.errors, over its handle.
    package func makeRequest(handle: borrowing PyRef) -> PyRef? {
        let none: PyPtr = swsgi_py_none()
        return requestClass.make(handle.ptr, none, none)
    }

    package func makeInput(handle: borrowing PyRef) -> PyRef? {
        inputClass.make(handle.ptr, names.emptyBytes.ptr)
    }

    package func makeErrors(handle: borrowing PyRef) -> PyRef? {
        logClass.make(handle.ptr, names.errorLevel.ptr, names.errorsName.ptr, names.empty.ptr, noLock)
    }

    /// What the app gave start_response (None until it called it); nil when an app deleted it.
    package func responseStatus(of request: borrowing PyRef?) -> PyRef? { slot(1, of: request, in: requestClass) }
    package func responseHeaders(of request: borrowing PyRef?) -> PyRef? { slot(2, of: request, in: requestClass) }

    /// Whether wsgi.errors holds the start of a line.
    package func hasPartialLine(_ errors: borrowing PyRef?) -> Bool {
        slot(3, of: errors, in: logClass)?.isTrue() == true
    }

    private func slot(_ index: Int, of object: borrowing PyRef?, in slotClass: SlotClass) -> PyRef? {
        switch object {
        case .some(let object): slotClass.value(of: object, slot: index)
        case .none: nil
        }
    }

    /// Whether the pending exception is mod_wsgi.RequestTimeout: the request was interrupted
    /// and unwound. It is cleared then.
    package func takeRequestTimeout() -> Bool {
        guard PyErr_ExceptionMatches(requestTimeout) != 0 else { return false }
        PyErr_Clear()
        return true
    }

    /// Logs the pending Python exception (traceback included) and clears it; log is for a
    /// line when the traceback cannot be formatted.
    package func logPendingException(handle: borrowing PyRef?, log: (swsgi_level, String) -> Void, message: String) {
        var rawType: PyPtr?, rawValue: PyPtr?, rawTraceback: PyPtr?
        swsgi_py_take_exception(&rawType, &rawValue, &rawTraceback)
        let value = PyRef(rawValue), traceback = PyRef(rawTraceback)
        guard let type = PyRef(rawType) else { return }
        let none: PyPtr = swsgi_py_none()
        if let text = PyRef(PyUnicode_FromString(message)),
           PyRef(call(logException, pointer(handle) ?? none, text.ptr, type.ptr, pointer(value) ?? none, pointer(traceback) ?? none)) != nil {
            return
        }
        PyErr_Clear()
        log(SWSGI_LOG_ERR, message + " (and the traceback could not be formatted)")
    }
}

/// Interned strings the gateway uses on every request. Made anew for each interpreter, in it:
/// with a GIL per interpreter (3.12+) no object may be shared between them.
package struct Names {
    package let startResponse = internedName("start_response")
    package let close = internedName("close")
    package let flush = internedName("flush")
    package let filelike = internedName("filelike")
    package let fileno = internedName("fileno")
    package let tell = internedName("tell")
    package let pathInfo = internedName("PATH_INFO")
    package let wsgiVersion = internedName("wsgi.version")
    package let wsgiInput = internedName("wsgi.input")
    package let wsgiErrors = internedName("wsgi.errors")
    package let wsgiFileWrapper = internedName("wsgi.file_wrapper")
    package let wsgiMultithread = internedName("wsgi.multithread")
    package let wsgiMultiprocess = internedName("wsgi.multiprocess")
    package let wsgiRunOnce = internedName("wsgi.run_once")
    package let wsgiUrlScheme = internedName("wsgi.url_scheme")
    package let wsgiInputTerminated = internedName("wsgi.input_terminated")
    package let childKeys = ChildKey.allCases.map { internedName($0.name) }
    package let modWsgiVersion = internedName("mod_wsgi.version")
    package let apacheVersion = internedName("apache.version")
    package let scriptStart = internedName("mod_wsgi.script_start")
    package let daemonStart = internedName("mod_wsgi.daemon_start")
    package let threadID = internedName("mod_wsgi.thread_id")
    package let threadRequests = internedName("mod_wsgi.thread_requests")
    package let totalRequests = internedName("mod_wsgi.total_requests")
    package let asgiConnection = internedName("swsgi.asgi_connection")
    package let modWsgiVersionTuple = PyConstant(intTuple(modWsgiVersionNumbers))
    package let apacheVersionTuple = PyConstant(intTuple(PythonRuntime.host.apacheVersion))
    package let version = PyConstant(intTuple([1, 0]))
    package let http = internedName("http")
    package let https = internedName("https")
    package let empty = internedName("")
    package let emptyBytes = PyConstant(PyBytes_FromStringAndSize(nil, 0)!)
    package let errorsName = internedName("<wsgi.errors>")
    package let errorLevel = PyConstant(PyLong_FromLong(3)!)
}

private func pointer(_ object: borrowing PyRef?) -> PyPtr? {
    switch object {
    case .some(let object): object.ptr
    case .none: nil
    }
}

/// The mod_wsgi release whose behaviour swsgi follows: mod_wsgi.version for apps that ask.
let modWsgiVersionNumbers = [4, 9, 4]

func intTuple(_ numbers: [Int]) -> PyPtr {
    let tuple = PyTuple_New(numbers.count)!
    for (i, n) in numbers.enumerated() { PyTuple_SetItem(tuple, i, PyLong_FromLong(n)) }
    return tuple
}
