/// Where a directive may appear, and what to tell someone who put it elsewhere.
enum Placement {
    /// Process-wide settings: the main server only.
    case processWide
    case serverOrHost
    case notHtaccess
    /// As mod_wsgi's OR_FILEINFO directives: .htaccess files too (AllowOverride FileInfo).
    case anywhere
    /// mod_wsgi's OR_AUTHCFG: <Directory>, <Location> or .htaccess (AllowOverride AuthConfig).
    case directoryOrHtaccess

    func permits(_ context: DirectiveContext) -> Bool {
        switch self {
        case .processWide: return context == .server
        case .serverOrHost: return context == .server || context == .virtualHost
        case .notHtaccess: return context != .htaccess
        case .anywhere: return true
        case .directoryOrHtaccess: return context == .directory || context == .htaccess
        }
    }

    var remedy: String {
        switch self {
        case .processWide: return "it is process-wide; put it in the main server configuration"
        case .serverOrHost: return "put it in the main server configuration or a <VirtualHost>"
        case .notHtaccess, .anywhere: return "put it in the server configuration, a <VirtualHost>, <Directory> or <Location>"
        case .directoryOrHtaccess: return "put it in a <Directory> or <Location>, or in an .htaccess file"
        }
    }
}

/// One use of a directive, as a handler sees it.
struct Invocation {
    let directive: String
    let scope: Int
    let context: DirectiveContext
    let words: [String]

    /// The single argument, parsed; a failure names the directive and the word.
    func value<T>(_ parse: (String) throws -> T) throws -> T {
        try explain("\(directive): '\(words[0])'") { try parse(words[0]) }
    }
}

struct Directive: Sendable {
    let name: String
    let placement: Placement
    let arity: ClosedRange<Int>
    let usage: String
    let run: @Sendable (inout ConfigState, Invocation) throws -> Void
    /// Set for a directive accepted so that mod_wsgi configurations load, which changes
    /// nothing here: why, or "" (configtest says so in a notice).
    var withoutEffect: String?

    init(_ name: String, _ placement: Placement, arity: ClosedRange<Int> = 1...1, usage: String,
         run: @escaping @Sendable (inout ConfigState, Invocation) throws -> Void) {
        (self.name, self.placement, self.arity, self.usage, self.run) = (name, placement, arity, "\(name) \(usage)", run)
    }

    /// This directive, marked as having no effect.
    func withoutEffect(_ why: String = "") -> Directive {
        var marked = self
        marked.withoutEffect = why
        return marked
    }

    static func named(_ name: String) -> Directive? { table[name.lowercased()] }

    func validate(context: DirectiveContext, args: [String]) throws {
        guard placement.permits(context) else {
            throw ConfigError("\(name) cannot be used \(context.phrase): \(placement.remedy)")
        }
        guard arity.contains(args.count) else {
            let expected = arity.count == 1 ? "\(arity.lowerBound)"
                : arity.upperBound == Int.max ? "at least \(arity.lowerBound)"
                : "\(arity.lowerBound) to \(arity.upperBound)"
            let spoken = arity.upperBound == Int.max ? arity.lowerBound : arity.upperBound
            let noun = spoken == 1 ? "argument" : "arguments"
            throw ConfigError("\(name) expects \(expected) \(noun) (\(usage)) but got \(args.count)")
        }
    }

    private static let table: [String: Directive] = Dictionary(uniqueKeysWithValues: all.map { ($0.name.lowercased(), $0) })

    private static let all: [Directive] = [
        Directive("WSGIPythonHome", .processWide, usage: "prefix") { state, call in
            let path = call.words[0]
            if let problem = checkPythonHome(path, directive: call.directive, expected: state.python) {
                throw ConfigError(problem)
            }
            state.global.pythonHome = path
        },
        Directive("WSGIPythonPath", .processWide, usage: "directory[:directory...]") { state, call in
            state.global.pythonPath = searchPath(call.words[0])
        },
        Directive("WSGIPythonOptimize", .processWide, usage: "0|1|2") { state, call in
            state.global.pythonOptimize = try call.value(Limit.within(0...2).parse)
        },
        Directive("WSGIPythonHashSeed", .processWide, usage: "random|0..4294967295") { state, call in
            state.global.pythonHashSeed = try call.value(HashSeed.init(parsing:))
        },
        Directive("WSGIPythonWarnings", .processWide, usage: "action:message:category:module:lineno") { state, call in
            state.global.pythonWarnings.append(call.words[0])
        },
        Directive("WSGISocketPrefix", .processWide, usage: "path-prefix") { state, call in
            state.global.socketPrefix = call.words[0]
        },
        Directive("WSGIPythonEggs", .processWide, usage: "directory") { state, call in
            state.global.pythonEggs = call.words[0]
        }.withoutEffect(),
        Directive("WSGIAcceptMutex", .processWide, usage: "default|flock|fcntl|sysvsem|posixsem|pthread") { state, call in
            state.global.acceptMutex = try call.value { word in
                let mechanisms = ["default", "flock", "fcntl", "sysvsem", "posixsem", "pthread"]
                guard mechanisms.contains(word.lowercased()) else {
                    throw Reason("is not a lock mechanism; use one of \(mechanisms.joined(separator: ", "))")
                }
                return word.lowercased()
            }
        }.withoutEffect(),
        Directive(InterpreterOptions.directive, .processWide, arity: 0...2,
                  usage: "[process-group=name] [application-group=name]> ... \(InterpreterOptions.closing)") { state, call in
            guard state.openOptions == nil else { throw ConfigError("\(call.directive) sections cannot be nested") }
            state.global.interpreterOptions.append(try InterpreterOptions(words: call.words))
            state.openOptions = state.global.interpreterOptions.count - 1
        },
        Directive(InterpreterOptions.closing, .processWide, arity: 0...0, usage: "") { state, _ in
            state.openOptions = nil
        },
        Directive("WSGIPerInterpreterGIL", .processWide, usage: "On|Off") { state, call in
            let on = try call.value(onOff)
            if on, state.python < (3, 12) {
                throw ConfigError("\(call.directive) On needs Python 3.12 or newer (PEP 684's per-interpreter GIL); this module is built for Python \(state.python.major).\(state.python.minor)")
            }
            if let open = state.openOptions {
                state.global.interpreterOptions[open].perInterpreterGIL = on
            } else {
                state.global.perInterpreterGIL = on
            }
        },
        globalFlag("WSGIDontWriteBytecode", \.dontWriteBytecode),
        globalFlag("WSGIRestrictEmbedded", \.restrictEmbedded),
        globalFlag("WSGILazyInitialization", \.lazyInitialization).withoutEffect(),
        globalFlag("WSGIRestrictStdout", \.restrictStdout).withoutEffect(),
        globalFlag("WSGIRestrictStdin", \.restrictStdin).withoutEffect(),
        globalFlag("WSGIRestrictSignal", \.restrictSignal).withoutEffect(),
        globalFlag("WSGIDestroyInterpreter", \.destroyInterpreter).withoutEffect(),
        globalFlag("WSGISocketRotation", \.socketRotation).withoutEffect(),
        globalFlag("WSGIVerboseDebugging", \.verboseDebugging).withoutEffect(),
        globalFlag("WSGICaseSensitivity", \.caseSensitivity).withoutEffect(),

        Directive("WSGIScriptAlias", .serverOrHost, arity: 2...7,
                  usage: "URL-path file-or-directory [process-group=name] [application-group=name] [callable-object=name] [pass-authorization=On|Off] [interface=wsgi|asgi]") { state, call in
            state.scopes[call.scope].scriptAliases.append(try ScriptAlias(words: call.words, matching: false))
        },
        Directive("WSGIScriptAliasMatch", .serverOrHost, arity: 2...7,
                  usage: "regex file-or-directory [process-group=name] [application-group=name] [callable-object=name] [pass-authorization=On|Off] [interface=wsgi|asgi]") { state, call in
            state.scopes[call.scope].scriptAliases.append(try ScriptAlias(words: call.words, matching: true))
        },
        Directive("WSGIHandlerScript", .notHtaccess, arity: 2...5,
                  usage: "handler-name script [process-group=name] [application-group=name] [pass-authorization=On|Off]") { state, call in
            let handler = try HandlerScript(words: call.words.dropFirst())
            // Apache lower-cases the names AddHandler and SetHandler give.
            state.scopes[call.scope].handlerScripts[call.words[0].lowercased()] = handler
        },
        Directive("WSGIDispatchScript", .notHtaccess, arity: 1...2, usage: "script [application-group=name]") { state, call in
            state.scopes[call.scope].dispatchScript = try DispatchScript(words: call.words)
        },
        Directive("WSGIImportScript", .serverOrHost, arity: 3...3,
                  usage: "path process-group=name application-group=name") { state, call in
            state.global.importScripts.append(try ImportScript(words: call.words))
        },
        Directive("WSGIDaemonProcess", .serverOrHost, arity: 1...Int.max, usage: "name [option=value ...]") { state, call in
            let daemon = try DaemonProcess(words: call.words, scope: call.scope, context: call.context, python: state.python)
            if let earlier = state.global.daemons.first(where: { $0.name == daemon.name }) {
                throw ConfigError("\(call.directive): process group '\(daemon.name)' \(call.context.phrase) duplicates the one "
                    + "already defined \(earlier.context.phrase); daemon process group names must be unique across the server")
            }
            state.global.daemons.append(daemon)
            for option in daemon.withoutEffect {
                state.notice("swsgi: \(call.directive) '\(daemon.name)': option '\(option)' is accepted for compatibility with mod_wsgi but has no effect")
            }
        },

        Directive("WSGIProcessGroup", .notHtaccess, usage: "name|%{GLOBAL}|%{ENV:variable}") { state, call in
            state.scopes[call.scope].processGroup = try call.value(ProcessGroup.init(parsing:))
        },
        Directive("WSGIRestrictProcess", .notHtaccess, arity: 1...Int.max, usage: "group|%{GLOBAL} ...") { state, call in
            state.scopes[call.scope].restrictProcess = try call.words.map { word in
                guard !word.isEmpty, !word.hasPrefix("%{") || word == "%{GLOBAL}" else {
                    throw ConfigError("\(call.directive): '\(word)' is not a process group name; use the name of a WSGIDaemonProcess or %{GLOBAL}")
                }
                return word == "%{GLOBAL}" ? "" : word
            }
        },
        Directive("WSGIApplicationGroup", .notHtaccess, usage: "name|%{GLOBAL}|%{RESOURCE}|%{SERVER}|%{HOST}|%{ENV:variable}") { state, call in
            state.scopes[call.scope].applicationGroup = try call.value(ApplicationGroup.init(parsing:))
        },

        Directive("WSGICallableObject", .anywhere, usage: "name|%{ENV:variable}") { state, call in
            state.scopes[call.scope].callableObject = try call.value { word in
                guard !word.isEmpty else { throw Reason("is not a name") }
                return word
            }
        },
        scopeFlag("WSGIPassAuthorization", \.passAuthorization),
        scopeFlag("WSGIChunkedRequest", \.chunkedRequest),
        scopeFlag("WSGIScriptReloading", \.scriptReloading),
        scopeFlag("WSGIErrorOverride", \.errorOverride),
        Directive("WSGIMapHEADToGET", .anywhere, usage: "On|Off|Auto") { state, call in
            state.scopes[call.scope].mapHEADToGET = try call.value { word in
                guard let mapping = HeadMapping(rawValue: word.lowercased()) else { throw Reason("is not On, Off or Auto") }
                return mapping
            }
        },
        scopeFlag("WSGIEnableSendfile", \.enableSendfile),
        // Accepted so that mod_wsgi configurations load; it changes nothing here.
        acceptedFlag("WSGIIgnoreActivity").withoutEffect(),
        authScript("WSGIAccessScript", \.accessScript),
        authScript("WSGIAuthUserScript", \.authUserScript),
        authScript("WSGIAuthGroupScript", \.authGroupScript),
        // Authorization by group belongs to the wsgi-group provider under Apache 2.4:
        // accepted, as by mod_wsgi, and without effect.
        Directive("WSGIGroupAuthoritative", .directoryOrHtaccess, usage: "On|Off") { _, call in _ = try call.value(onOff) }
            .withoutEffect("Apache 2.4's authorization providers decide"),
        Directive("WSGITrustedProxyHeaders", .anywhere, arity: 1...Int.max, usage: "header [header ...]") { state, call in
            var headers = state.scopes[call.scope].trustedProxyHeaders ?? []
            for word in call.words {
                let header = try explain("\(call.directive): '\(word)'") { try ProxyHeader(parsing: word) }
                if let other = headers.first(where: { $0.family == header.family && $0 != header }) {
                    throw ConfigError("\(call.directive): '\(word)' and '\(other.rawValue)' both give \(header.family.rawValue); trust only the one your proxy always sets")
                }
                if !headers.contains(header) { headers.append(header) }
            }
            state.scopes[call.scope].trustedProxyHeaders = headers
        },
        Directive("WSGITrustedProxies", .anywhere, arity: 1...Int.max, usage: "address[/prefix] [address[/prefix] ...]") { state, call in
            let ranges = try call.words.map { word in
                try explain("\(call.directive): '\(word)'") { try AddressRange(parsing: word) }
            }
            state.scopes[call.scope].trustedProxies = (state.scopes[call.scope].trustedProxies ?? []) + ranges
        },
        acceptedFlag("WSGIPassApacheRequest", .notHtaccess).withoutEffect(),
    ]

    private static func globalFlag(_ name: String, _ field: WritableKeyPath<GlobalSettings, Bool> & Sendable) -> Directive {
        Directive(name, .processWide, usage: "On|Off") { state, call in
            state.global[keyPath: field] = try call.value(onOff)
        }
    }

    private static func authScript(_ name: String, _ field: WritableKeyPath<Scope, AuthScript?> & Sendable) -> Directive {
        Directive(name, .directoryOrHtaccess, arity: 1...2, usage: "path [application-group=name]") { state, call in
            state.scopes[call.scope][keyPath: field] = try AuthScript(words: call.words, directive: call.directive)
        }
    }

    private static func acceptedFlag(_ name: String, _ placement: Placement = .anywhere) -> Directive {
        Directive(name, placement, usage: "On|Off") { _, call in _ = try call.value(onOff) }
    }

    private static func scopeFlag(_ name: String, _ field: WritableKeyPath<Scope, Bool?> & Sendable) -> Directive {
        Directive(name, .anywhere, usage: "On|Off") { state, call in
            state.scopes[call.scope][keyPath: field] = try call.value(onOff)
        }
    }
}
