import CPython
import Glibc

/// How CPython is told where its home is. A venv (pyvenv.cfg present) is left to CPython's own
/// path calculation through its bin/python, so that sys.prefix is the venv and sys.base_prefix
/// its base; any other home is a prefix. Without a home, the program is this module's own
/// Python, never whatever `python3` comes first on PATH.
package enum PythonHome {
    package static let builtVersion = (major: Int(PY_MAJOR_VERSION), minor: Int(PY_MINOR_VERSION))
    static let builtExecutable = String(cString: swsgi_python_program())
    /// The prefix of builtExecutable (<prefix>/bin/pythonX.Y).
    package static let builtPrefix: String = {
        var parts = builtExecutable.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(min(2, parts.count))
        return parts.isEmpty || parts == [""] ? "/" : parts.joined(separator: "/")
    }()

    static func isVirtualEnvironment(_ home: String) -> Bool {
        access(home + "/pyvenv.cfg", R_OK) == 0
    }

    /// Applies home to config: program name, and `home` for a prefix.
    static func apply(_ home: String?, to config: UnsafeMutablePointer<PyConfig>) -> PyStatus {
        guard let home else { return PyConfig_SetBytesString(config, &config.pointee.program_name, builtExecutable) }
        if isVirtualEnvironment(home) {
            return PyConfig_SetBytesString(config, &config.pointee.program_name, home + "/bin/python")
        }
        let status = PyConfig_SetBytesString(config, &config.pointee.program_name, builtExecutable)
        if PyStatus_Exception(status) != 0 { return status }
        return PyConfig_SetBytesString(config, &config.pointee.home, home)
    }
}
