/// Process-wide settings: allowed only in the main server configuration.
public struct GlobalSettings: Sendable {
    public var pythonHome: String?
    /// WSGIPythonPath split on ":" (empty entries dropped); embedded mode only.
    public var pythonPath: [String] = []
    /// 0, 1 or 2.
    public var pythonOptimize = 0
    public var pythonHashSeed: HashSeed?
    /// WSGIPythonWarnings, in configuration order.
    public var pythonWarnings: [String] = []
    public var dontWriteBytecode = false
    /// WSGISocketPrefix, already ServerRoot-resolved by the shim.
    public var socketPrefix: String?
    public var restrictEmbedded = false
    public var daemons: [DaemonProcess] = []
    /// WSGIImportScript, in configuration order.
    public var importScripts: [ImportScript] = []
    /// WSGIPerInterpreterGIL outside any <WSGIInterpreterOptions>: for sub-interpreters (3.12+).
    public var perInterpreterGIL = false
    /// <WSGIInterpreterOptions> sections, in configuration order.
    public var interpreterOptions: [InterpreterOptions] = []

    // Accepted and stored so mod_wsgi configurations load; defaults are mod_wsgi's effective ones.
    public var lazyInitialization = true
    public var restrictStdout = false
    public var restrictStdin = false
    public var restrictSignal = true
    public var destroyInterpreter = true
    public var socketRotation = true
    public var verboseDebugging = false
    public var caseSensitivity = true
    /// WSGIAcceptMutex, lower-cased.
    public var acceptMutex = "default"
    /// WSGIPythonEggs: PYTHON_EGG_CACHE for embedded mode.
    public var pythonEggs: String?

    public init() {}
}
