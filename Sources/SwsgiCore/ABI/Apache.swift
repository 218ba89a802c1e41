import SwsgiABI

/// The shim's I/O table, registered once when Apache loads the module.
enum Apache {
    nonisolated(unsafe) static var io = swsgi_io()
    /// The Apache version the shim was compiled for.
    nonisolated(unsafe) static var version = [2, 4, 0]

    /// One line into the error log; ctx nil logs for the server.
    static func log(_ ctx: UnsafeMutableRawPointer?, _ level: Int32, _ message: UnsafePointer<CChar>) {
        io.log?(ctx, level, message)
    }

    static func log(_ ctx: UnsafeMutableRawPointer?, _ level: swsgi_level, _ message: String) {
        message.withCString { log(ctx, Int32(level.rawValue), $0) }
    }
}
