import CPython
import SwsgiABI
import Glibc
import Synchronization
import SwsgiConfig

/// The process's Python: initialised once, globally, after fork (never in Apache's parent),
/// then one interpreter per application group, each created on first use.
package enum PythonRuntime {
    package enum State { case off, ready, failed(String) }
    nonisolated(unsafe) package private(set) static var state = State.off
    /// Interpreters by application group name ("" is the main one). Guarded by `creation`,
    /// not by a GIL: interpreters with a GIL of their own run side by side. Requests find
    /// theirs in a per-thread cache and take the lock only the first time.
    nonisolated(unsafe) private static var interpreters: [String: Interpreter] = [:]
    nonisolated(unsafe) private static var sitePath: [String] = []
    /// This process's group ("" embedded mode) and settings, for the interpreters' options.
    nonisolated(unsafe) private(set) static var processGroup = ""
    nonisolated(unsafe) private static var settings = GlobalSettings()
    /// Set by start, before anything can call into Python.
    nonisolated(unsafe) private(set) static var host: PythonHost!
    private static let threadStates = ThreadStates()
    private static let creation = Mutex(())
    private static let startLock = Mutex(())
    private static let started = Atomic<Bool>(false)
    /// Runs start exactly once per process, whichever thread gets here first.
    package static func startOnce(_ start: () -> Void) {
        if started.load(ordering: .acquiring) { return }
        startLock.withLock { _ in
            if started.load(ordering: .acquiring) { return }
            start()
            started.store(true, ordering: .releasing)
        }
    }

    /// One line into the server's error log.
    static func log(_ level: swsgi_level, _ message: String) {
        message.withCString { host.log(Int32(level.rawValue), $0) }
    }

    /// Initialises Python with home and the site directories; logs one clear error and leaves
    /// Python off when that cannot work, so requests get a prompt 500 instead of a crash loop.
    package static func start(home: String?, homeDirective: String, sitePath: [String], processGroup: String, settings: GlobalSettings,
                              host: PythonHost) {
        self.host = host
        if let home, let problem = checkPythonHome(home, directive: homeDirective, expected: PythonHome.builtVersion) {
            fail(problem)
            return
        }
        var config = PyConfig()
        let status: PyStatus = withUnsafeMutablePointer(to: &config) { config in
            PyConfig_InitPythonConfig(config)
            defer { PyConfig_Clear(config) }
            config.pointee.install_signal_handlers = 0   // Apache owns the signals
            config.pointee.user_site_directory = 0       // ~/.local of Apache's user must not leak in
            config.pointee.parse_argv = 0
            config.pointee.optimization_level = Int32(settings.pythonOptimize)
            config.pointee.write_bytecode = settings.dontWriteBytecode ? 0 : 1
            if case .value(let seed)? = settings.pythonHashSeed {
                config.pointee.use_hash_seed = 1
                config.pointee.hash_seed = UInt(seed)
            }
            var status = PythonHome.apply(home, to: config)
            for option in settings.pythonWarnings where PyStatus_Exception(status) == 0 {
                if let wide = Py_DecodeLocale(option, nil) {
                    status = PyWideStringList_Append(&config.pointee.warnoptions, wide)
                    PyMem_RawFree(wide)
                }
            }
            if PyStatus_Exception(status) != 0 { return status }
            NativeModule.register()
            return Py_InitializeFromConfig(config)
        }
        if PyStatus_Exception(status) != 0 {
            let reason = status.err_msg.map { String(cString: $0) } ?? "unknown error"
            fail("Python \(PythonHome.builtVersion.major).\(PythonHome.builtVersion.minor) could not be initialised (\(reason)); check \(homeDirective)\(home.map { " '\($0)'" } ?? "")")
            return
        }
        self.sitePath = sitePath
        self.processGroup = processGroup
        self.settings = settings
        guard let main = Interpreter(index: 0, name: "", sitePath: sitePath) else {
            logStartupException("setting up the main Python interpreter failed")
            fail("swsgi could not set up the main Python interpreter; see the traceback above")
            return
        }
        interpreters[""] = main
        state = .ready
        logInitialised(home: home, homeDirective: homeDirective)
        threadStates.adopt(PyEval_SaveThread()!, index: 0)
    }

    /// For operators, at info level: which Python, from where, in which process.
    private static func logInitialised(home: String?, homeDirective: String) {
        let version = String(cString: Py_GetVersion()).prefix { $0 != " " }
        var prefix = "?"
        if let object = PySys_GetObject("prefix"), let text = PyUnicode_AsUTF8(object) { prefix = String(cString: text) }
        let process = processGroup.isEmpty ? "Apache child \(getpid())" : "daemon process \(getpid()) of group '\(processGroup)'"
        log(SWSGI_LOG_INFO, "swsgi: \(process) initialised Python \(version) with sys.prefix '\(prefix)'"
                   + (home.map { " (\(homeDirective) '\($0)')" } ?? ""))
    }

    private static func fail(_ message: String) {
        state = .failed(message)
        log(SWSGI_LOG_ERR, "swsgi: " + message)
    }

    private static func logStartupException(_ message: String) {
        log(SWSGI_LOG_ERR, "swsgi: " + message)
        PyErr_Print()
    }

    /// Loads the WSGIImportScript scripts meant for this process group, each in its
    /// application group's interpreter.
    package static func preload(_ scripts: [ImportScript], for group: ProcessGroup) {
        guard case .ready = state else { return }
        for script in scripts where script.processGroup == group {
            // The configuration allows only %{GLOBAL} ("") or a name here.
            var name = ""
            if case .named(let group) = script.applicationGroup { name = group }
            guard let interpreter = enter(group: name) else { continue }
            _ = interpreter.preload(script: script.path, for: "WSGIImportScript")
            leave()
        }
    }

    /// Loads the WSGI scripts whose aliases name both groups, as mod_wsgi preloads them. A
    /// failure is logged, and the script's first request tries again.
    package static func preload(_ scripts: [ScriptPreload]) {
        guard case .ready = state else { return }
        for script in scripts {
            guard let interpreter = enter(group: script.applicationGroup) else { continue }
            _ = interpreter.preload(script: script.script, for: "WSGIScriptAlias")
            leave()
        }
    }

    /// At process exit: mod_wsgi's process_stopping event and the apps' atexit functions, in
    /// every interpreter, instead of a full finalisation (which can wait on app threads). An
    /// alarm ends the process if they hang.
    package static func runExitFunctions(within seconds: Int, reason: String) {
        guard case .ready = state else { return }
        alarm(UInt32(max(1, seconds)))
        let groups = creation.withLock { _ in Array(interpreters.keys) }
        for group in groups {
            guard let interpreter = enter(group: group) else { continue }
            interpreter.processStopping(reason: reason)
            if PyRun_SimpleString("import atexit; atexit._run_exitfuncs()") != 0 { PyErr_Clear() }
            leave()
        }
    }

    /// Takes the GIL of the interpreter of an application group, creating it on first use:
    /// nil, holding no GIL, when it could not be created.
    package static func enter(group: String) -> Interpreter? {
        guard let interpreter = threadStates.interpreter(named: group, orFind: findOrCreate) else { return nil }
        takeGIL(threadStates.state(for: interpreter))
        return interpreter
    }

    /// The interpreter of an application group, for a thread that holds its GIL already.
    package static func interpreter(group: String) -> Interpreter? {
        threadStates.interpreter(named: group, orFind: findOrCreate)
    }

    /// Releases the GIL taken by enter.
    package static func leave() {
        _ = PyEval_SaveThread()
    }

    /// Called holding no GIL. Creating an interpreter imports modules, which releases the GIL:
    /// the mutex keeps two threads from creating the same group twice.
    private static func findOrCreate(_ group: String) -> Interpreter? {
        creation.withLock { _ in interpreters[group] ?? createInterpreter(group) }
    }

    /// Called under `creation`, holding no GIL; returns holding none.
    private static func createInterpreter(_ group: String) -> Interpreter? {
        guard let main = interpreters[""] else { return nil }
        PyEval_RestoreThread(threadStates.state(for: main))
        let ownGIL = settings.ownGIL(processGroup: processGroup, applicationGroup: group)
        var error: UnsafePointer<CChar>?
        guard let state = swsgi_py_new_interpreter(ownGIL ? 1 : 0, &error) else {
            _ = PyEval_SaveThread()
            log(SWSGI_LOG_ERR, "swsgi: cannot create a Python sub-interpreter for application group '\(group)': \(error.map { String(cString: $0) } ?? "unknown error")")
            return nil
        }
        let interpreter = Interpreter(index: interpreters.count, name: group, sitePath: sitePath)
        if let interpreter {
            interpreters[group] = interpreter
            threadStates.adopt(state, index: interpreter.index)
            log(SWSGI_LOG_INFO, "swsgi: created the interpreter of application group '\(group)'\(ownGIL ? " with its own GIL" : "")")
        } else {
            logStartupException("setting up the interpreter of application group '\(group)' failed")
        }
        _ = PyEval_SaveThread()
        return interpreter
    }
}
