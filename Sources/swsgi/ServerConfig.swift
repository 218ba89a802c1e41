import Foundation

/// Everything `swsgi serve` decided, from which the Apache configuration is written.
struct ServerPlan {
    var root: String
    var apache: String
    var module: String
    var apacheModules: String
    var host: String
    var port: Int
    var mountPoint: String
    /// The file WSGIScriptAlias mounts: the user's script, or the generated loader.
    var script: String
    var callable: String?
    var processes: Int
    var threads: Int
    var pythonHome: String?
    /// Which Python runs the application, for the start-up line: "3.11 at /srv/venv".
    var python: String
    var pythonPath: [String]
    var workingDirectory: String
    var urlAliases: [(url: String, path: String)]
    var documentRoot: String?
    var maximumRequests: Int
    var requestTimeout: Int
    var interruptTimeout: Int
    var accessLog: Bool
    var logLevel: String
    var user: String?
    var group: String?
    var includeFiles: [String]
    /// Logs to the terminal (serve) or to files in the server root (--setup-only).
    var logToTerminal: Bool

    var configPath: String { root + "/httpd.conf" }
    var controlScript: String { root + "/apachectl" }
    var groupName: String { "\(host):\(port)" }
    var url: String { "http://\(host == "0.0.0.0" ? "localhost" : host):\(port)\(mountPoint)" }

    /// The Apache configuration: one daemon process group runs the application, Apache's
    /// own children only pass requests to it, and carry no Python (WSGIRestrictEmbedded).
    var configuration: String {
        var lines = [
            "# Written by swsgi serve, which writes it anew each time it serves from this server root.",
            "ServerRoot \(quoted(root))",
            "DefaultRuntimeDir \(quoted(root))",
            "PidFile \(quoted(root + "/httpd.pid"))",
            "ServerName \(host == "0.0.0.0" ? "localhost" : host):\(port)",
            "Listen \(host):\(port)",
        ]
        let modules = ["mpm_event", "authz_core", "mime", "alias", "dir", "rewrite", "log_config"]
        // Those compiled into Apache (Debian's log_config) have no file to load.
        for name in modules where FileManager.default.fileExists(atPath: "\(apacheModules)/mod_\(name).so") {
            lines.append("LoadModule \(name)_module \(quoted("\(apacheModules)/mod_\(name).so"))")
        }
        lines.append("LoadModule wsgi_module \(quoted(module))")  // mod_wsgi's word, as conf/swsgi.load
        // Not root, Apache runs as the user who started it; saying so gives the module the
        // uid its daemons accept connections from (it takes User's, which defaults to #-1).
        lines.append("User \(user ?? "#\(geteuid())")")
        lines.append("Group \(group ?? "#\(getegid())")")
        lines += [
            "ErrorLog \(quoted(logToTerminal ? "/dev/stderr" : root + "/error_log"))",
            "LogLevel \(logLevel)",
            "TypesConfig \(quoted(FileManager.default.fileExists(atPath: "/etc/mime.types") ? "/etc/mime.types" : "/dev/null"))",
            "StartServers 1",
            "ServerLimit 4",
            "ThreadsPerChild 25",
            "MaxRequestWorkers 100",
        ]
        if accessLog {
            lines.append(#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined"#)
            lines.append("CustomLog \(quoted(logToTerminal ? "/dev/stdout" : root + "/access_log")) combined")
        }
        lines += [
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            "WSGISocketPrefix \(quoted(root + "/wsgi"))",
            "WSGIRestrictEmbedded On",
            "WSGIDaemonProcess " + ([quoted(groupName)] + daemonOptions.map(quoted)).joined(separator: " "),
        ]
        for alias in urlAliases {
            lines += ["Alias \(quoted(alias.url)) \(quoted(alias.path))"] + granted(alias.path)
        }
        if let documentRoot {
            // Files that exist under the document root are served by Apache, the rest by the app.
            lines += ["DocumentRoot \(quoted(documentRoot))", "RewriteEngine On",
                      "RewriteCond \(quoted(documentRoot + "%{REQUEST_URI}")) -f",
                      "RewriteRule ^(.*)$ \(quoted(documentRoot + "$1")) [L]"] + granted(documentRoot)
        }
        var alias = ["WSGIScriptAlias", quoted(mountPoint), quoted(script), quoted("process-group=\(groupName)"), "application-group=%{GLOBAL}"]
        if let callable { alias.append(quoted("callable-object=\(callable)")) }
        lines.append(alias.joined(separator: " "))
        lines += granted((script as NSString).deletingLastPathComponent)
        lines += includeFiles.map { "Include \(quoted($0))" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// WSGIDaemonProcess's options, mod_wsgi-express's where they mean the same.
    private var daemonOptions: [String] {
        var options = ["processes=\(processes)", "threads=\(threads)", "display-name=(swsgi:\(port))",
                       "home=\(workingDirectory)", "python-path=\(([workingDirectory] + pythonPath).joined(separator: ":"))"]
        if let pythonHome { options.append("python-home=\(pythonHome)") }
        if maximumRequests > 0 { options.append("maximum-requests=\(maximumRequests)") }
        if requestTimeout > 0 { options.append("request-timeout=\(requestTimeout)") }
        if interruptTimeout > 0 { options.append("interrupt-timeout=\(interruptTimeout)") }
        if let user { options.append("user=\(user)") }
        if let group { options.append("group=\(group)") }
        return options
    }

    /// `swsgi serve --setup-only`'s control script: start, stop, restart, graceful, configtest.
    var controlScriptText: String {
        """
        #!/bin/sh
        # Written by swsgi serve --setup-only: controls the Apache of \(root).
        HTTPD=\(shellQuoted(apache))
        CONF=\(shellQuoted(configPath))
        case "$1" in
        start|stop|restart|graceful|graceful-stop) exec "$HTTPD" -f "$CONF" -k "$1" ;;
        configtest) exec "$HTTPD" -f "$CONF" -t ;;
        *) echo "usage: $0 start|stop|restart|graceful|graceful-stop|configtest" >&2; exit 2 ;;
        esac

        """
    }
}

/// A <Directory> that lets Apache serve what is mapped into directory.
private func granted(_ directory: String) -> [String] {
     ["<Directory \(quoted(directory))>", "    Require all granted", "</Directory>"]
}

/// A word for Apache's configuration reader: quoted, with its quotes and backslashes escaped.
func quoted(_ word: String) -> String {
    "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
