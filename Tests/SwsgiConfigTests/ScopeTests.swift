import Dispatch
import XCTest
@testable import SwsgiConfig

final class ScopeTests: XCTestCase {
    func testScriptAliasOptions() throws {
        let f = Fixture()
        f.ok("WSGIScriptAlias /app/ /srv/app.wsgi process-group=site application-group=%{GLOBAL} callable-object=handler pass-authorization=on")
        let alias = f.config.alias(scope: f.main, index: 0)
        XCTAssertEqual(alias.urlPath, "/app")
        XCTAssertEqual(alias.target, "/srv/app.wsgi")
        XCTAssertEqual(alias.processGroup, .named("site"))
        XCTAssertEqual(alias.applicationGroup, .global)
        XCTAssertEqual(alias.callableObject, "handler")
        XCTAssertEqual(alias.passAuthorization, true)
        f.ok("WSGIScriptAlias / /srv/root.wsgi")
        let root = f.config.alias(scope: f.main, index: 1)
        XCTAssertEqual(root.urlPath, "/")
        XCTAssertNil(root.processGroup)
        XCTAssertNil(root.applicationGroup)
        XCTAssertNil(root.callableObject)
        XCTAssertNil(root.passAuthorization)
    }

    func testScriptAliasErrors() {
        let f = Fixture()
        XCTAssertEqual(f.apply("WSGIScriptAlias app /srv/app.wsgi"), "WSGIScriptAlias: URL-path 'app' must start with '/'")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app srv/app.wsgi"), "WSGIScriptAlias: target 'srv/app.wsgi' must be an absolute path")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.wsgi daemon=site"),
                       "WSGIScriptAlias: option 'daemon=site' is unknown; use process-group=, application-group=, callable-object=, pass-authorization= or interface=")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.py interface=asgi"),
                       "WSGIScriptAlias: interface=asgi needs process-group= naming a WSGIDaemonProcess: ASGI apps run on an event loop in a daemon process group, not in Apache's child processes")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.py process-group=%{GLOBAL} interface=asgi"),
                       "WSGIScriptAlias: interface=asgi needs process-group= naming a WSGIDaemonProcess: ASGI apps run on an event loop in a daemon process group, not in Apache's child processes")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.py process-group=site interface=rsgi"),
                       "WSGIScriptAlias: option 'interface=rsgi' must be wsgi or asgi")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.wsgi pass-authorization=yes"),
                       "WSGIScriptAlias: option 'pass-authorization=yes' must be On or Off")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.wsgi process-group=%{HOST}"),
                       "WSGIScriptAlias: option 'process-group=%{HOST}' is not supported; use %{GLOBAL}, %{ENV:variable} or the name of a WSGIDaemonProcess")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app /srv/app.wsgi process-group"),
                       "WSGIScriptAlias: 'process-group' is not an option; options are written name=value")
        XCTAssertTrue(f.config.scope(f.main).scriptAliases.isEmpty)
    }

    func testTranslateIsSegmentAwareAndFirstMatchWins() throws {
        let f = Fixture()
        f.ok("WSGIScriptAlias /app /srv/app.wsgi")
        f.ok("WSGIScriptAlias /scripts/ /srv/scripts/")
        f.ok("WSGIScriptAlias /app/admin /srv/never.wsgi")
        f.ok("WSGIScriptAlias / /srv/root.wsgi")
        func translate(_ uri: String) -> [String] {
            guard let hit = f.config.translate(scope: f.main, uri: Array(uri.utf8)) else { return [] }
            return ["\(hit.alias)", String(decoding: hit.target, as: UTF8.self)]
        }
        XCTAssertEqual(translate("/app"), ["0", "/srv/app.wsgi"])
        XCTAssertEqual(translate("/app/"), ["0", "/srv/app.wsgi/"])
        XCTAssertEqual(translate("/app/x/y"), ["0", "/srv/app.wsgi/x/y"])
        XCTAssertEqual(translate("/app/admin"), ["0", "/srv/app.wsgi/admin"])
        XCTAssertEqual(translate("/apple"), ["3", "/srv/root.wsgi/apple"])
        XCTAssertEqual(translate("/scripts/x.wsgi/foo"), ["1", "/srv/scripts/x.wsgi/foo"])
        XCTAssertEqual(translate("/scripts"), ["1", "/srv/scripts/"])
        XCTAssertEqual(translate("/scriptsx"), ["3", "/srv/root.wsgi/scriptsx"])
        XCTAssertEqual(translate("/"), ["3", "/srv/root.wsgi/"])
        XCTAssertEqual(translate("*"), [])
        // Not UTF-8: the bytes pass through as they are.
        let latin1 = f.config.translate(scope: f.main, uri: Array("/app/caf".utf8) + [0xE9] + Array("/x".utf8))
        XCTAssertEqual(latin1?.target, Array("/srv/app.wsgi/caf".utf8) + [0xE9] + Array("/x".utf8))
    }

    func testTranslateWithoutRootAlias() {
        let f = Fixture()
        f.ok("WSGIScriptAlias /app /srv/app.wsgi")
        XCTAssertNil(f.config.translate(scope: f.main, uri: Array("/apple".utf8)))
        XCTAssertNil(f.config.translate(scope: f.main, uri: Array("/".utf8)))
        XCTAssertNil(f.config.translate(scope: f.config.newScope(), uri: Array("/app".utf8)))
    }

    func testMergeTakesAddWhereSetElseBase() {
        let f = Fixture()
        let host = f.config.newScope()
        f.ok("WSGIScriptAlias / /srv/main.wsgi")
        f.ok("WSGIProcessGroup main")
        f.ok("WSGIApplicationGroup %{GLOBAL}")
        f.ok("WSGIPassAuthorization On")
        f.ok("WSGIChunkedRequest On")
        f.ok("WSGIScriptAlias /vh /srv/vh.wsgi", in: .virtualHost, scope: host)
        f.ok("WSGIProcessGroup vh", in: .virtualHost, scope: host)
        f.ok("WSGIPassAuthorization Off", in: .virtualHost, scope: host)
        f.ok("WSGIScriptReloading Off", in: .virtualHost, scope: host)
        let merged = f.config.scope(f.config.merge(base: f.main, add: host))
        XCTAssertEqual(merged.scriptAliases.map(\.urlPath), ["/vh", "/"])
        XCTAssertEqual(merged.processGroup, .named("vh"))
        XCTAssertEqual(merged.applicationGroup, .global)
        XCTAssertEqual(merged.passAuthorization, false)
        XCTAssertEqual(merged.chunkedRequest, true)
        XCTAssertEqual(merged.scriptReloading, false)
        XCTAssertNil(merged.callableObject)
        // The virtual host's own alias is tried first.
        XCTAssertEqual(f.config.translate(scope: f.config.merge(base: f.main, add: host), uri: Array("/vh/x".utf8))?.target, Array("/srv/vh.wsgi/x".utf8))
    }

    func testMergeIsMemoised() {
        let f = Fixture()
        let a = f.config.newScope(), b = f.config.newScope()
        let ab = f.config.merge(base: a, add: b)
        XCTAssertEqual(f.config.merge(base: a, add: b), ab)
        XCTAssertNotEqual(f.config.merge(base: b, add: a), ab)
        let next = f.config.newScope()
        XCTAssertEqual(next, ab + 2, "repeated merges must not create scopes")
    }

    func testConcurrentMergesAgree() {
        let f = Fixture()
        let scopes = (0..<8).map { _ in f.config.newScope() }
        f.ok("WSGICallableObject app", in: .directory, scope: scopes[3])
        var results = [[Int32]](repeating: [], count: 16)
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: 16) { worker in
                var ids: [Int32] = []
                for _ in 0..<200 {
                    for (base, add) in zip(scopes, scopes.reversed()) {
                        ids.append(f.config.merge(base: base, add: add))
                        _ = f.config.translate(scope: base, uri: Array("/x".utf8))
                    }
                }
                slots[worker] = ids
            }
        }
        XCTAssertTrue(results.allSatisfy { $0 == results[0] })
        XCTAssertEqual(Set(results[0]).count, 8)
        XCTAssertEqual(f.config.newScope(), Int32(1 + 8 + 8), "one scope per distinct pair")
        XCTAssertEqual(f.config.scope(f.config.merge(base: scopes[4], add: scopes[3])).callableObject, "app")
    }

    func testUnknownScopeReadsAsEmpty() {
        let scope = Fixture().config.scope(42)
        XCTAssertTrue(scope.scriptAliases.isEmpty)
        XCTAssertNil(scope.processGroup)
    }
}
