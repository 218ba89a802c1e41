import Foundation
import SwsgiConfig
import XCTest
@testable import swsgi

final class ApacheConfigReaderTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "swsgi-tool-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/conf.d", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    private func read(defines: [String] = []) throws -> ApacheConfigReader {
        let reader = ApacheConfigReader(configuration: Configuration(pythonVersion: (3, 11), pythonPrefix: "/usr"),
                                        serverRoot: directory, environment: ["RUN_USER": "www-data"], defines: defines,
                                        builtIn: ["log_config_module"])
        try reader.read(file: directory + "/main.conf")
        return reader
    }

    func testSectionsIncludesAndVariables() throws {
        try write("main.conf", """
            User ${RUN_USER}
            LoadModule wsgi_module mod_swsgi.so
            LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
            Define SITE
            IncludeOptional conf.d/*.conf
            IncludeOptional missing/*.conf
            Include sub
            <IfModule !mod_wsgi.c>
                WSGIDaemonProcess never
            </IfModule>
            <IfModule swsgi_module>
                WSGIDaemonProcess swsgi
            </IfModule>
            <IfDefine !SITE>
                WSGIDaemonProcess nor
            </IfDefine>
            <IfModule log_config_module>
                <IfModule mod_nothing.c>
                    WSGIDaemonProcess nested
                </IfModule>
                WSGIDaemonProcess \\
                    logged threads=2
            </IfModule>
            """)
        try write("conf.d/b.conf", "<IfDefine SITE>\n<VirtualHost *:80>\nWSGIDaemonProcess second\n</VirtualHost>\n</IfDefine>\n")
        try write("mod_swsgi.so", "... swsgi_module ...")
        try FileManager.default.createDirectory(atPath: directory + "/sub/deeper", withIntermediateDirectories: true)
        try write("sub/deeper/x.conf", "WSGIDaemonProcess deep\n")
        try write("conf.d/a.conf", "# first by name\nWSGIDaemonProcess \"first\" processes=2\n")
        let reader = try read()
        XCTAssertEqual(reader.errors, [])
        XCTAssertEqual(reader.user, "www-data")
        XCTAssertEqual(reader.modules.map(\.isSwsgi), [true, false])
        XCTAssertEqual(reader.effectiveModules.map(\.path), [directory + "/mod_swsgi.so"])  // Apache skips the second
        XCTAssertEqual(reader.configuration.global.daemons.map(\.name), ["first", "second", "deep", "swsgi", "logged"])
        XCTAssertEqual(reader.configuration.global.daemons.last?.threads, 2)
    }

    func testRefusedDirectiveNamesFileAndLine() throws {
        try write("main.conf", "\n<Directory /srv>\n  WSGIPythonHome /usr\n</Directory>\nWSGIDaemonProcess g processes=0\n")
        let reader = try read()
        XCTAssertEqual(reader.errors.count, 2)
        XCTAssertTrue(reader.errors[0].hasPrefix(directory + "/main.conf:3: WSGIPythonHome"), reader.errors[0])
        XCTAssertTrue(reader.errors[1].hasPrefix(directory + "/main.conf:5: WSGIDaemonProcess"), reader.errors[1])
        XCTAssertEqual(reader.refusedGroups.map(\.name), ["g"])
    }

    func testWordsAsApacheSplitsThem() {
        XCTAssertEqual(splitWords(#"WSGIDaemonProcess "a b" 'c d' e\f "g\"h""#), ["WSGIDaemonProcess", "a b", "c d", #"e\f"#, #"g"h"#])
        XCTAssertEqual(splitWords(#"Alias "" x"#), ["Alias", "", "x"])
    }

    func testQuotedWordsReadBackAsWritten() {
        for word in [#"/tmp/a "b"/c"#, #"back\slash"#, "plain"] {
            XCTAssertEqual(splitWords("X " + quoted(word)), ["X", word])
        }
    }

    func testApacheComplaintKeepsTheModulesSentence() {
        let output = """
            AH00526: Syntax error on line 12 of /tmp/r/httpd.conf:
            WSGIDaemonProcess: option 'threads=0' must be at least 1
            """
        XCTAssertEqual(apacheComplaint(output, config: "/tmp/r/httpd.conf"),
                       "Apache refuses the configuration: WSGIDaemonProcess: option 'threads=0' must be at least 1")
        let loading = "apache2: Syntax error on line 13 of /tmp/r/httpd.conf: Cannot load x.so into server: No such file\n"
        XCTAssertEqual(apacheComplaint(loading, config: "/tmp/r/httpd.conf"),
                       "Apache refuses the configuration: Cannot load x.so into server: No such file")
    }
}
