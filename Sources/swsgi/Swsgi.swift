import ArgumentParser

/// `swsgi serve` runs an app under Apache with one command; `swsgi doctor` says which Python
/// each part of an Apache configuration will run, and what is wrong with it, before start.
@main
struct Swsgi: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a WSGI application with Apache and mod_swsgi, or diagnose an Apache configuration's Python.",
        subcommands: [Serve.self, Doctor.self]
    )
}
