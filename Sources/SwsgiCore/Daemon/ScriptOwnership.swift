import Glibc
import SwsgiConfig

/// script-user= and script-group=, as mod_wsgi checks them before a request goes to the
/// group: the script and its directory must belong to that user (or group), and nobody else
/// may change them (with script-user, not the file's group either). nil when the script may
/// run; otherwise why not, for the log (the request gets 403).
func scriptOwnershipProblem(_ script: String, for config: DaemonProcess) -> String? {
    let directory = script.lastIndex(of: "/").map { String(script[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
    for (path, what) in [(script, "WSGI script '\(script)'"), (directory, "directory '\(directory)' of WSGI script '\(script)'")] {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot stat \(what): \(String(cString: strerror(errno)))" }
        if info.st_mode & S_IWOTH != 0 { return "\(what) is writable by everyone" }
        if let uid = config.scriptUID, let user = config.scriptUser {
            if info.st_uid != uid { return "\(what) is not owned by user '\(user)' (script-user)" }
            if info.st_mode & S_IWGRP != 0 { return "\(what) is writable by its group (script-user='\(user)')" }
        }
        if let gid = config.scriptGID, let group = config.scriptGroup, info.st_gid != gid {
            return "\(what) does not belong to group '\(group)' (script-group)"
        }
    }
    return nil
}
