import Foundation
import XCTest
@testable import SwsgiConfig

final class PythonHomeTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws { root = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try FileManager.default.removeItem(atPath: root) }

    private func check(_ path: String) -> String? {
        checkPythonHome(path, directive: "WSGIPythonHome", expected: python311)
    }

    private let hint = "WSGIPythonHome must be sys.prefix of a Python 3.11 installation or virtual environment (not the bin/python file, not site-packages)"

    func testMissing() {
        XCTAssertEqual(check(root + "/missing"), "WSGIPythonHome '\(root)/missing' does not exist; \(hint)")
    }

    func testFileIsNotADirectory() throws {
        try write("", to: root + "/python")
        XCTAssertEqual(check(root + "/python"), "WSGIPythonHome '\(root)/python' is not a directory; \(hint)")
    }

    func testVirtualEnvironmentOfAnotherPython() throws {
        try write("home = /opt/py/bin\ninclude-system-site-packages = false\nversion = 3.99.1\n", to: root + "/venv/pyvenv.cfg")
        XCTAssertEqual(check(root + "/venv"),
                       "WSGIPythonHome '\(root)/venv' is a virtual environment of Python 3.99, but this module is built for Python 3.11; recreate it with python3.11 -m venv")
    }

    func testVirtualenvVersionInfo() throws {
        try write("home = /usr/bin\nversion_info = 3.10.4.final.0\n", to: root + "/old/pyvenv.cfg")
        XCTAssertEqual(check(root + "/old"),
                       "WSGIPythonHome '\(root)/old' is a virtual environment of Python 3.10, but this module is built for Python 3.11; recreate it with python3.11 -m venv")
    }

    func testVirtualEnvironmentOfThisPythonNeedsNoStandardLibrary() throws {
        try write("home = /usr/bin\r\nversion = 3.11.2\r\n", to: root + "/venv/pyvenv.cfg")
        XCTAssertNil(check(root + "/venv"))
        XCTAssertEqual(venvVersion("  Version_Info =  3.11.2.final.0 "), "3.11")
        XCTAssertNil(venvVersion("home = /usr/bin\n"))
    }

    func testPrefixOfAnotherPython() throws {
        try write("", to: root + "/prefix/lib/python3.99/os.py")
        XCTAssertEqual(check(root + "/prefix"),
                       "WSGIPythonHome '\(root)/prefix' is a Python 3.99 installation, but this module is built for Python 3.11; \(hint)")
    }

    func testPrefixOfThisPython() throws {
        try write("", to: root + "/prefix/lib/python3.11/os.py")
        try write("", to: root + "/prefix/lib/python3.99/os.py")
        XCTAssertNil(check(root + "/prefix"))
        XCTAssertNil(check(root + "/prefix/"))
    }

    func testNoStandardLibrary() throws {
        try write("", to: root + "/site-packages/lib/python3/dist-packages/x.py")
        XCTAssertEqual(check(root + "/site-packages"),
                       "WSGIPythonHome '\(root)/site-packages' has no Python 3.11 standard library at '\(root)/site-packages/lib/python3.11'; \(hint)")
    }

    func testSystemPrefixPasses() {
        XCTAssertNil(check("/usr"))
        XCTAssertNotNil(checkPythonHome("/usr", directive: "WSGIPythonHome", expected: (3, 99)))
    }

    func testDirectiveNameAppearsInMessage() throws {
        try write("version = 3.99.0\n", to: root + "/venv/pyvenv.cfg")
        let f = Fixture()
        XCTAssertEqual(f.apply("WSGIDaemonProcess site python-home=\(root)/venv"),
                       "WSGIDaemonProcess python-home '\(root)/venv' is a virtual environment of Python 3.99, but this module is built for Python 3.11; recreate it with python3.11 -m venv")
        XCTAssertEqual(f.apply("WSGIPythonHome \(root)/venv"),
                       "WSGIPythonHome '\(root)/venv' is a virtual environment of Python 3.99, but this module is built for Python 3.11; recreate it with python3.11 -m venv")
    }
}
