import Foundation
import XCTest
@testable import SwsgiConfig

/// configtest runs as root, the processes as Apache's User or a daemon's user=: what they
/// cannot read must fail configtest, not every request.
final class ReadabilityTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("only root can check as another user") }
        root = try makeTemporaryDirectory()
        try write("", to: root + "/prefix/lib/python3.11/os.py")
        try write("", to: root + "/app/app.wsgi")
        chmod(root, 0o700)  // like /root: nobody else may enter
    }

    override func tearDownWithError() throws {
        if !root.isEmpty { try FileManager.default.removeItem(atPath: root) }
    }

    func testHomeUnreadableByApacheUser() {
        let f = Fixture()
        XCTAssertNil(f.apply("WSGIPythonHome \(root)/prefix"))
        XCTAssertEqual(f.check(), "WSGIPythonHome '\(root)/prefix' cannot be read by Apache's User 'nobody'; directory '\(root)' is not searchable (x) for it: Python would fail in every process that runs as it; make it readable for that user, or install Python and the application under a directory it can read")
        chmod(root, 0o755)
        XCTAssertNil(f.check())
    }

    func testDaemonPathAndScriptCheckedAsItsUser() {
        let f = Fixture()
        XCTAssertNil(f.apply("WSGIRestrictEmbedded On"))
        XCTAssertNil(f.apply("WSGIDaemonProcess site user=nobody python-path=\(root)/app"))
        XCTAssertNil(f.apply("WSGIScriptAlias / \(root)/app/app.wsgi process-group=site"))
        XCTAssertEqual(f.check()?.hasPrefix("WSGIDaemonProcess python-path '\(root)/app' cannot be read by user 'nobody', as which WSGIDaemonProcess 'site' runs"), true)
        chmod(root, 0o755)
        chmod(root + "/app/app.wsgi", 0o600)
        XCTAssertEqual(f.check()?.hasPrefix("WSGIScriptAlias '\(root)/app/app.wsgi' cannot be read by user 'nobody'"), true)
    }

    func testVirtualEnvironmentBaseChecked() throws {
        chmod(root, 0o755)
        try write("home = \(root)/base/bin\nversion = 3.11.2\n", to: root + "/venv/pyvenv.cfg")
        try write("", to: root + "/base/bin/python3")
        chmod(root + "/base", 0o700)
        let f = Fixture()
        XCTAssertNil(f.apply("WSGIPythonHome \(root)/venv"))
        XCTAssertEqual(f.check()?.hasPrefix("WSGIPythonHome (the Python its pyvenv.cfg names) '\(root)/base/bin' cannot be read by Apache's User 'nobody'; directory '\(root)/base' is not searchable"), true)
    }
}
