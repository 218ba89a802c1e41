import Foundation
import SwsgiConfig

/// What a Python reports about itself once set up as a process group's will be.
struct PythonFacts: Codable {
    let version: String
    let executable: String
    let prefix: String
    let base_prefix: String
    let path: [String]
}

/// Asks the Python a process group will run, as the user it runs as, set up as the module sets
/// it up (PythonHomeSetup.swift): a virtual environment's bin/python as the program, so that
/// CPython's own path calculation finds the venv; a prefix as PYTHONHOME (PyConfig.home) with
/// the module's program; the user site directory off; then the group's python-path through
/// the module's own add_site_dirs (SwsgiConfig.sitePathSource).
/// Returns the facts, or the sentence saying why that Python does not start.
func probePython(home: String?, sitePath: [String], built: ModulePython, as identity: Identity?,
                 directory: String, environment: [String: String]) -> Result<PythonFacts, Failure> {
    var env = environment
    var program = built.program
    if let directory = built.libraryDirectory { env["LD_LIBRARY_PATH"] = directory }
    if let home {
        if FileManager.default.fileExists(atPath: home + "/pyvenv.cfg") {
            program = home + "/bin/python"
        } else {
            env["PYTHONHOME"] = home
        }
    }
    let code = """
    import sys
    # -c puts the current directory first; the module's interpreters have no such entry.
    if not getattr(sys.flags, 'safe_path', False):
        del sys.path[0]
    def _note_site_dir(d):
        pass
    \(sitePathSource)
    add_site_dirs(sys.argv[1:])
    import json
    print(json.dumps(dict(version=sys.version.split()[0], executable=sys.executable, prefix=sys.prefix,
                          base_prefix=sys.base_prefix, path=sys.path)))
    """
    let answer = execute([program, "-s", "-c", code] + sitePath,
                         environment: env.map { "\($0.key)=\($0.value)" }, as: identity, in: directory)
    guard answer.succeeded, let data = answer.output.split(separator: "\n").last.map({ Data($0.utf8) }),
          let facts = try? JSONDecoder().decode(PythonFacts.self, from: data) else {
        let why = answer.errors.split(separator: "\n").last.map(String.init)
            ?? (answer.status == 127 ? "'\(program)' cannot be run" : "exit status \(answer.status)")
        return .failure(Failure(why))
    }
    return .success(facts)
}
