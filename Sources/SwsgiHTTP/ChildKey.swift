/// mod_wsgi's environ keys for what the Apache child resolved about the request from the
/// configuration (their values come from the gateway's dispatch).
public enum ChildKey: Int, CaseIterable, Sendable {
    case processGroup, applicationGroup, callableObject, scriptReloading, handlerScript, enableSendfile, ignoreActivity

    public var name: String {
        switch self {
        case .processGroup: "mod_wsgi.process_group"
        case .applicationGroup: "mod_wsgi.application_group"
        case .callableObject: "mod_wsgi.callable_object"
        case .scriptReloading: "mod_wsgi.script_reloading"
        case .handlerScript: "mod_wsgi.handler_script"
        case .enableSendfile: "mod_wsgi.enable_sendfile"
        case .ignoreActivity: "mod_wsgi.ignore_activity"
        }
    }
}
