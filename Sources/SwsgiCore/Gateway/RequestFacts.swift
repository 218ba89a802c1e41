import Glibc
import SwsgiABI

/// The environ key with which the Apache child hands a daemon an ASGI request's headers.
let asgiHeadersKey = "swsgi.asgi_headers"
/// The environ key with which it tells a daemon whether an ASGI request's connection can be
/// handed over (a WebSocket): "" if it can, else why not.
let handoverKey = "swsgi.handover"

/// The few CGI variables the core needs before any Python runs: which script, which
/// application group, how the body is framed.
struct RequestFacts {
    var scriptFilename: String?
    var serverName = ""
    var serverPort = ""
    var scriptName = ""
    var httpHost: String?
    var contentLength: Int?
    var https = false
    var hasPathInfo = false
    var chunked = false
    /// Set by the Apache child for a daemon.
    var applicationGroup: String?
    var callableObject: String?
    /// The Apache handler (the child's), or the WSGIHandlerScript it resolved (for a daemon).
    var requestHandler = ""
    var handlerScript = ""
    var requestStart: Int?
    /// When the Apache child handed the request to the daemon (epoch microseconds).
    var queueStart: Int?
    var scriptReloading = true
    /// The child sends an ASGI request's raw headers (asgiHeadersKey); their presence marks it.
    var asgi = false
    /// The request asks to switch protocols (an Upgrade header).
    var upgrade = false

    init(_ request: UnsafePointer<swsgi_request>) {
        let r = request.pointee
        for i in 0..<r.count {
            guard let key = r.keys[i], let value = r.values[i] else { continue }
            // A character that tells the names apart first: some forty variables, each
            // compared with a few names, cost more strcmp than all the rest of this.
            switch key[0] {
            case 0x53 /* S */:
                if key[1] == 0x43 /* SC */ {
                    if strcmp(key, "SCRIPT_FILENAME") == 0 { scriptFilename = String(cString: value) }
                    else if strcmp(key, "SCRIPT_NAME") == 0 { scriptName = String(cString: value) }
                } else if strcmp(key, "SERVER_NAME") == 0 { serverName = String(cString: value) }
                else if strcmp(key, "SERVER_PORT") == 0 { serverPort = String(cString: value) }
            case 0x48 /* H */:
                // Each index read is at most the terminator of what the prefix checks found.
                guard strncmp(key, "HTTP", 4) == 0 else { break }
                if key[4] == 0x53 /* HTTPS */ {
                    if strcmp(key, "HTTPS") == 0 { https = strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0 }
                } else if key[4] != 0x5F /* HTTP_ */ {
                    break
                } else if key[5] == 0x48 /* HTTP_H */ {
                    if strcmp(key, "HTTP_HOST") == 0 { httpHost = String(cString: value) }
                } else if key[5] == 0x54 /* HTTP_T */, strcmp(key, "HTTP_TRANSFER_ENCODING") == 0 {
                    chunked = String(cString: value).lowercased().contains("chunked")
                } else if key[5] == 0x55 /* HTTP_U */, strcmp(key, "HTTP_UPGRADE") == 0 {
                    upgrade = true
                }
            case 0x50 /* P */:
                if strcmp(key, "PATH_INFO") == 0 { hasPathInfo = true }
            case 0x73 /* s */:
                if strcmp(key, asgiHeadersKey) == 0 { asgi = true }
            case 0x43 /* C */:
                if strcmp(key, "CONTENT_LENGTH") == 0 { contentLength = decimal(value) }
            case 0x6D /* m */:
                guard strncmp(key, "mod_wsgi.", 9) == 0 else { break }
                switch key[9] {
                case 0x61 /* a */:
                    if strcmp(key, "mod_wsgi.application_group") == 0 { applicationGroup = String(cString: value) }
                case 0x63 /* c */:
                    if strcmp(key, "mod_wsgi.callable_object") == 0 { callableObject = String(cString: value) }
                case 0x72 /* r */:
                    if strcmp(key, "mod_wsgi.request_start") == 0 { requestStart = decimal(value) }
                    else if strcmp(key, "mod_wsgi.request_handler") == 0 { requestHandler = String(cString: value) }
                case 0x68 /* h */:
                    if strcmp(key, "mod_wsgi.handler_script") == 0 { handlerScript = String(cString: value) }
                case 0x73 /* s */:
                    if strcmp(key, "mod_wsgi.script_reloading") == 0 { scriptReloading = strcmp(value, "0") != 0 }
                case 0x71 /* q */:
                    if strcmp(key, "mod_wsgi.queue_start") == 0 { queueStart = decimal(value) }
                default:
                    break
                }
            default:
                break
            }
        }
    }

    func value(of name: String, in request: UnsafePointer<swsgi_request>) -> String? {
        let r = request.pointee
        for i in 0..<r.count where r.keys[i].map({ strcmp($0, name) == 0 }) == true {
            return r.values[i].map { String(cString: $0) }
        }
        return getenv(name).map { String(cString: $0) }
    }
}

/// A decimal number as Int(String) reads one (an optional sign, then digits only), without
/// making the String: nil for anything else or what Int cannot hold.
private func decimal(_ text: UnsafePointer<CChar>) -> Int? {
    var i = text[0] == 0x2B /* + */ || text[0] == 0x2D /* - */ ? 1 : 0
    let negative = text[0] == 0x2D
    guard text[i] != 0 else { return nil }
    var value = 0
    while text[i] != 0 {
        let digit = Int(text[i]) - 0x30
        guard (0...9).contains(digit) else { return nil }
        let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
        let (next, carry) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
        guard !overflow, !carry else { return nil }
        value = next
        i += 1
    }
    return value
}
