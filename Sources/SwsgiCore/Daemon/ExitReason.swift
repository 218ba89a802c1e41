import SwsgiABI

/// The metrics' reason for a daemon's planned exit, from the policy's sentence for it.
func exitReason(_ sentence: String) -> swsgi_exit_reason {
    let reasons: [(String, swsgi_exit_reason)] = [
        ("maximum-requests", SWSGI_EXIT_MAXIMUM_REQUESTS), ("request-timeout", SWSGI_EXIT_REQUEST_TIMEOUT),
        ("inactivity-timeout", SWSGI_EXIT_INACTIVITY_TIMEOUT), ("script changed", SWSGI_EXIT_SCRIPT_CHANGED),
        ("restart-interval", SWSGI_EXIT_RESTART_INTERVAL), ("startup-timeout", SWSGI_EXIT_STARTUP_TIMEOUT),
        ("told to restart", SWSGI_EXIT_RESTART), ("told to stop", SWSGI_EXIT_SHUTDOWN),
    ]
    return reasons.first { sentence.contains($0.0) }?.1 ?? SWSGI_EXIT_OTHER
}
