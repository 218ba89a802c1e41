import SwsgiABI
import SwsgiPolicy

extension StopReason {
    /// The metrics' reason for the planned exit that follows.
    var exitReason: swsgi_exit_reason {
        switch self {
        case .maximumRequests: SWSGI_EXIT_MAXIMUM_REQUESTS
        case .requestTimeout: SWSGI_EXIT_REQUEST_TIMEOUT
        case .inactivityTimeout: SWSGI_EXIT_INACTIVITY_TIMEOUT
        case .scriptChanged: SWSGI_EXIT_SCRIPT_CHANGED
        case .restartInterval: SWSGI_EXIT_RESTART_INTERVAL
        case .startupTimeout: SWSGI_EXIT_STARTUP_TIMEOUT
        case .restart: SWSGI_EXIT_RESTART
        case .shutdown: SWSGI_EXIT_SHUTDOWN
        }
    }
}
