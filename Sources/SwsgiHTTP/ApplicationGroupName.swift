// mod_wsgi's names for the implicit application groups; apps and logs observe them.

/// `%{SERVER}`: the server name, with the port unless it is 80 or 443.
public func serverGroupName(serverName: String, port: String) -> String {
    port.isEmpty || port == "80" || port == "443" ? serverName : "\(serverName):\(port)"
}

/// `%{RESOURCE}`, the default: the server group and the lower-cased SCRIPT_NAME.
public func resourceGroupName(serverName: String, port: String, scriptName: String) -> String {
    "\(serverGroupName(serverName: serverName, port: port))|\(asciiLowercased(scriptName))"
}

private func asciiLowercased(_ s: String) -> String {
    String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
}
