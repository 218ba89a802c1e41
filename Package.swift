// swift-tools-version:5.9
import PackageDescription

// The Swift core of mod_swsgi. `make` builds the static library product and links it,
// together with the C shim compiled by apxs, into mod_swsgi.so; and the `swsgi` tool.
let package = Package(
    name: "swsgi",
    products: [
        .library(name: "SwsgiCore", type: .static, targets: ["SwsgiCore"]),
        .executable(name: "swsgi", targets: ["swsgi"]),
    ],
    // Only the command-line tool uses it: the module itself has no dependencies.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Python.h of the Python chosen with `make PYTHON=...`: the Makefile passes its include
        // directory and program path (-Xcc), and links libpython into the module itself.
        .systemLibrary(name: "CPython", path: "Sources/CPython"),
        // The one C header shared with the shim: shim/swsgi.h.
        .systemLibrary(name: "SwsgiABI", path: "Sources/SwsgiABI"),
        // epoll and prctl, which Swift's Glibc module leaves out.
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        // Configuration model, directive parsing and validation: pure Swift.
        .target(name: "SwsgiConfig", path: "Sources/SwsgiConfig"),
        // Status/header validation and environ helpers: pure Swift.
        .target(name: "SwsgiHTTP", path: "Sources/SwsgiHTTP"),
        .target(name: "SwsgiProtocol", path: "Sources/SwsgiProtocol"),
        // The daemon's timing policies and connection registry: pure Swift, on a given clock.
        // Its generic types are used by SwsgiCore: cross-module optimisation lets the compiler
        // specialise them there, instead of every request looking up their metadata at run time
        // (some 15,000 instructions of a daemon request).
        .target(name: "SwsgiPolicy", path: "Sources/SwsgiPolicy",
                swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        // The Python runtime layer: the only target that sees the CPython C API. The rest of
        // the core holds Python objects through its owned references and safe wrappers.
        .target(
            name: "SwsgiPython",
            dependencies: ["CPython", "SwsgiABI", "SwsgiConfig", "SwsgiHTTP"],
            path: "Sources/SwsgiPython"
        ),
        .target(
            name: "SwsgiCore",
            dependencies: ["CLinux", "SwsgiABI", "SwsgiConfig", "SwsgiHTTP", "SwsgiPolicy", "SwsgiProtocol", "SwsgiPython"],
            path: "Sources/SwsgiCore"
        ),
        // The `swsgi` command (serve, doctor): reads configurations with SwsgiConfig itself.
        .executableTarget(
            name: "swsgi",
            dependencies: ["SwsgiConfig", "CLinux", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/swsgi"
        ),
        .testTarget(name: "SwsgiToolTests", dependencies: ["swsgi"], path: "Tests/SwsgiToolTests"),
        .testTarget(name: "SwsgiConfigTests", dependencies: ["SwsgiConfig"], path: "Tests/SwsgiConfigTests"),
        .testTarget(name: "SwsgiHTTPTests", dependencies: ["SwsgiHTTP"], path: "Tests/SwsgiHTTPTests"),
        .testTarget(name: "SwsgiProtocolTests", dependencies: ["SwsgiProtocol"], path: "Tests/SwsgiProtocolTests"),
        .testTarget(name: "SwsgiPolicyTests", dependencies: ["SwsgiPolicy"], path: "Tests/SwsgiPolicyTests"),
    ]
)
