import CPython
import SwsgiABI

/// One Python interpreter of this process: the main one (application group %{GLOBAL}) or a
/// sub-interpreter for a named group. Holds the objects of `_swsgi_support` the gateway calls,
/// and the WSGI scripts loaded into it. Only touched holding its GIL (its own one, or the one
/// it shares with the main interpreter).
final class Interpreter {
    let index: Int
    let name: String
    let state: OpaquePointer
    /// The type of the request handles of this interpreter (`RequestHandle`).
    let handleType: PyPtr
    let requestType: PyPtr
    let inputType: PyPtr
    let logType: PyPtr
    let fileWrapperType: PyPtr
    let loadScript: PyPtr
    let logException: PyPtr
    /// mod_wsgi's event_callbacks list and the support functions that publish the events.
    let eventCallbacks: PyPtr
    let requestStarted: PyPtr
    let requestFinished: PyPtr
    let processStoppingEvent: PyPtr
    /// The shared no-op lock of wsgi.errors objects.
    let noLock: PyPtr
    let names: Names
    let environKeys = KeyCache()
    /// Loaded WSGI callables by script path: the script's mtime, the callable's name.
    private var scripts: [String: [(mtime: Int, name: String, callable: PyPtr)]] = [:]

    /// Sets up the current interpreter: `_swsgi`, `_swsgi_support`, the site directories.
    init?(index: Int, name: String, sitePath: [String]) {
        guard let code = PyRef(Py_CompileString(supportSource, "<swsgi>", Py_file_input)),
              let support = PyRef(PyImport_ExecCodeModule("_swsgi_support", code.ptr)),
              let native = PyRef(PyImport_ImportModule("_swsgi")),
              let handleType = NativeModule.handleType(of: native.ptr) else { return nil }
        func attribute(_ name: String) -> PyPtr? { PyObject_GetAttrString(support.ptr, name) }
        guard let request = attribute("Request"), let input = attribute("Input"), let log = attribute("Log"),
              let wrapper = attribute("FileWrapper"), let load = attribute("load_script"),
              let logException = attribute("log_exception"), let addSiteDirs = attribute("add_site_dirs"),
              let noLock = attribute("NO_LOCK"),
              let group = PyRef(PyUnicode_DecodeFSDefault(name)),
              let processGroup = PyRef(PyUnicode_FromString(PythonRuntime.processGroup)),
              PyObject_SetAttrString(support.ptr, "PROCESS_GROUP", processGroup.ptr) == 0,
              PyObject_SetAttrString(support.ptr, "APPLICATION_GROUP", group.ptr) == 0,
              let setup = PyRef(attribute("setup_mod_wsgi")), let version = PyRef(intTuple(modWsgiVersionNumbers)),
              let eventCallbacks = call(setup.ptr, version.ptr, processGroup.ptr, group.ptr),
              let requestStarted = attribute("request_started"), let requestFinished = attribute("request_finished"),
              let processStopping = attribute("process_stopping") else { return nil }
        if !sitePath.isEmpty {
            guard let list = PyRef(PyList_New(0)) else { return nil }
            for dir in sitePath {
                guard let entry = PyRef(PyUnicode_DecodeFSDefault(dir)), PyList_Append(list.ptr, entry.ptr) == 0 else { return nil }
            }
            guard PyRef(PyObject_CallOneArg(addSiteDirs, list.ptr)) != nil else { return nil }
        }
        self.index = index
        self.name = name
        self.state = PyInterpreterState_Get()
        self.handleType = PyRef(borrowing: handleType).take()
        self.requestType = request
        self.inputType = input
        self.logType = log
        self.fileWrapperType = wrapper
        self.loadScript = load
        self.logException = logException
        self.eventCallbacks = eventCallbacks
        self.requestStarted = requestStarted
        self.requestFinished = requestFinished
        self.processStoppingEvent = processStopping
        self.noLock = noLock
        self.names = Names()
    }

    /// The WSGI callable of a script, (re)loading the script when its mtime changed.
    /// nil with a Python exception set, or with `missing` set when the callable is absent.
    func application(script: String, mtime: Int, callable: String, missing: inout Bool) -> PyPtr? {
        var loaded = scripts[script] ?? []
        if let cached = loaded.first(where: { $0.name == callable }), cached.mtime == mtime { return cached.callable }
        guard let path = PyRef(PyUnicode_DecodeFSDefault(script)),
              let time = PyRef(PyLong_FromLong(mtime)),
              let module = PyRef(call(loadScript, path.ptr, time.ptr)) else { return nil }
        guard let app = PyObject_GetAttrString(module.ptr, callable) else {
            PyErr_Clear()
            missing = true
            return nil
        }
        if let old = loaded.firstIndex(where: { $0.name == callable }) { swsgi_py_decref(loaded.remove(at: old).callable) }
        loaded.append((mtime, callable, app))
        scripts[script] = loaded
        return app
    }

    /// Whether an app called mod_wsgi.subscribe_events (GIL held).
    var hasEventSubscribers: Bool { PyList_Size(eventCallbacks) > 0 }

    /// mod_wsgi's process_stopping event (GIL held); a failure is logged.
    func processStopping(reason: String) {
        guard let text = PyRef(PyUnicode_FromString(reason)), PyRef(call(processStoppingEvent, text.ptr)) != nil else {
            logPendingException(handle: nil, log: { Apache.log(nil, $0, $1) }, message: "swsgi: the process_stopping event failed")
            return
        }
    }

    /// Whether this interpreter loaded script's callable from a version other than mtime's.
    func loadedAnother(script: String, mtime: Int, callable: String) -> Bool {
        scripts[script]?.first(where: { $0.name == callable }).map { $0.mtime != mtime } ?? false
    }

    /// WSGIImportScript: loads script now, as a request would; false (logged) when it failed.
    func preload(script: String) -> Bool {
        var info = stat()
        let mtime = stat(script, &info) == 0 ? info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec : 0
        guard let path = PyRef(PyUnicode_DecodeFSDefault(script)), let time = PyRef(PyLong_FromLong(mtime)),
              PyRef(call(loadScript, path.ptr, time.ptr)) != nil else {
            logPendingException(handle: nil, log: { Apache.log(nil, $0, $1) },
                                message: "swsgi: WSGIImportScript '\(script)' failed in application group '\(name)'")
            return false
        }
        return true
    }

    /// A new instance of one of the support module's __slots__ classes, its slots set from
    /// fields; __init__ is not called.
    func instantiate(_ type: PyPtr, _ fields: KeyValuePairs<PyPtr, PyPtr>) -> PyPtr? {
        let typeObject = UnsafeMutableRawPointer(type).assumingMemoryBound(to: PyTypeObject.self)
        guard let object = typeObject.pointee.tp_alloc(typeObject, 0) else { return nil }
        for (name, value) in fields where PyObject_SetAttr(object, name, value) != 0 {
            swsgi_py_decref(object)
            return nil
        }
        return object
    }

    /// Logs the pending Python exception (traceback included) and clears it; log is for a
    /// line when the traceback cannot be formatted.
    func logPendingException(handle: PyPtr?, log: (swsgi_level, String) -> Void, message: String) {
        var type: PyPtr?, value: PyPtr?, traceback: PyPtr?
        swsgi_py_take_exception(&type, &value, &traceback)
        guard type != nil else { return }
        let none: PyPtr = swsgi_py_none()
        if let text = PyRef(PyUnicode_FromString(message)),
           PyRef(call(logException, handle ?? none, text.ptr, type!, value ?? none, traceback ?? none)) == nil {
            PyErr_Clear()
            log(SWSGI_LOG_ERR, message + " (and the traceback could not be formatted)")
        }
        swsgi_py_xdecref(type); swsgi_py_xdecref(value); swsgi_py_xdecref(traceback)
    }
}

/// Interned strings the gateway uses on every request. Made anew for each interpreter, in it:
/// with a GIL per interpreter (3.12+) no object may be shared between them.
struct Names {
    let status = internedName("status")
    let headers = internedName("headers")
    let handle = internedName("_h")
    let startResponse = internedName("start_response")
    let close = internedName("close")
    let flush = internedName("flush")
    let filelike = internedName("filelike")
    let fileno = internedName("fileno")
    let tell = internedName("tell")
    let pathInfo = internedName("PATH_INFO")
    let wsgiVersion = internedName("wsgi.version")
    let wsgiInput = internedName("wsgi.input")
    let wsgiErrors = internedName("wsgi.errors")
    let wsgiFileWrapper = internedName("wsgi.file_wrapper")
    let wsgiMultithread = internedName("wsgi.multithread")
    let wsgiMultiprocess = internedName("wsgi.multiprocess")
    let wsgiRunOnce = internedName("wsgi.run_once")
    let wsgiUrlScheme = internedName("wsgi.url_scheme")
    let wsgiInputTerminated = internedName("wsgi.input_terminated")
    let childKeys = ChildKey.allCases.map { internedName($0.name) }
    let modWsgiVersion = internedName("mod_wsgi.version")
    let apacheVersion = internedName("apache.version")
    let scriptStart = internedName("mod_wsgi.script_start")
    let daemonStart = internedName("mod_wsgi.daemon_start")
    let threadID = internedName("mod_wsgi.thread_id")
    let threadRequests = internedName("mod_wsgi.thread_requests")
    let totalRequests = internedName("mod_wsgi.total_requests")
    let modWsgiVersionTuple = intTuple(modWsgiVersionNumbers)
    let apacheVersionTuple = intTuple(Apache.version)
    let version = intTuple([1, 0])
    let http = internedName("http")
    let https = internedName("https")
    let empty = internedName("")
    let emptyBytes = PyBytes_FromStringAndSize(nil, 0)!
    let buffer = internedName("_buf")
    let level = internedName("_level")
    let name = internedName("name")
    let lock = internedName("_lock")
    let errorsName = internedName("<wsgi.errors>")
    let errorLevel = PyLong_FromLong(3)!
}

/// The mod_wsgi release whose behaviour swsgi follows: mod_wsgi.version for apps that ask.
let modWsgiVersionNumbers = [4, 9, 4]

func intTuple(_ numbers: [Int]) -> PyPtr {
    let tuple = PyTuple_New(numbers.count)!
    for (i, n) in numbers.enumerated() { PyTuple_SetItem(tuple, i, PyLong_FromLong(n)) }
    return tuple
}
