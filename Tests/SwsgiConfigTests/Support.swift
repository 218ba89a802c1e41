import Foundation
import XCTest
@testable import SwsgiConfig

let python311 = (major: 3, minor: 11)
let nobody: (uid: UInt32, gid: UInt32) = { let entry = getpwnam("nobody")!.pointee; return (entry.pw_uid, entry.pw_gid) }()

/// A configuration with one main-server scope, applying directives written as config lines.
final class Fixture {
    let config: Configuration
    let main: Int32

    init(python: (major: Int, minor: Int) = python311) {
        config = Configuration(pythonVersion: python, pythonPrefix: "/usr")
        main = config.newScope()
    }

    /// configtest's cross-checks, with Apache's User and Group the unprivileged `nobody`.
    func check() -> String? {
        config.check(mainScope: main, apacheUID: nobody.uid, apacheGID: nobody.gid)
    }

    /// Applies `line` (words split on spaces, as the shim hands them over) in `scope`.
    @discardableResult
    func apply(_ line: String, in context: DirectiveContext = .server, scope: Int32? = nil) -> String? {
        let words = line.split(separator: " ").map(String.init)
        return config.apply(scope: scope ?? main, context: context, name: words[0], args: Array(words.dropFirst()))
    }

    /// Applies a line that must succeed.
    func ok(_ line: String, in context: DirectiveContext = .server, scope: Int32? = nil,
            file: StaticString = #filePath, line number: UInt = #line) {
        XCTAssertNil(apply(line, in: context, scope: scope), line, file: file, line: number)
    }
}

/// A fresh directory under /tmp, removed by the caller's tearDown.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "swsgi-config-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}
