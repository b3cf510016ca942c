// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "muse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "muse-internal", targets: ["MuseInternal"]),
        .executable(name: "muse-cloud", targets: ["MuseCloud"]),
        .executable(name: "muse-worker-sim", targets: ["MuseWorkerSim"]),
        .executable(name: "muse-bench", targets: ["MuseBench"]),
        // scripts/fuzz.sh builds it with libFuzzer and ASan; otherwise it replays files.
        .executable(name: "muse-fuzz", targets: ["MuseFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "YAML"]),
        // Yams is already in the graph through swift-configuration's YAML trait; we use it
        // directly only to list a config file's keys, so an unknown key fails start-up.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // muse-internal verifies the company IdP's tokens with it (RS256, ES256, EdDSA; JWKS).
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // zlib: the simulated worker deflates the PNGs it returns (PNG's IDAT is a zlib stream).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Strict JSON: parser, decoder that names the bad field, compact encoder. No dependencies.
        .target(name: "MuseJSON", swiftSettings: strict),
        .target(
            name: "MuseHTTP",
            dependencies: [
                "MuseJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The worker protocol's bodies (the unified params among them), shared by the server and
        // any worker written in Swift (muse-worker-sim).
        .target(name: "MuseWorkerProtocol", dependencies: ["MuseJSON"], swiftSettings: strict),
        // Blocking HTTP calls through libcurl (run them off the event loops).
        .target(name: "MuseCurl", dependencies: ["CCurl"], swiftSettings: strict),
        // Domain and App: entities, rules, services, the scheduler, and the ports they declare.
        // No HTTP, no C library, no NIO: the compiler keeps those out.
        .target(
            name: "MuseCore",
            dependencies: [
                "MuseJSON", "MuseWorkerProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // MuseCore's ports implemented: SQLite stores, libcurl clients, files, OpenSSL, logging.
        .target(
            name: "MuseInfra",
            dependencies: [
                "MuseCore", "MuseJSON", "MuseWorkerProtocol", "MuseCurl", "CLibPQ", "CHiredis", "COpenSSL", "CSQLite",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The shared HTTP adapter and process: controllers, error mapping, config, CLI, runtime.
        .target(
            name: "MuseServer",
            dependencies: [
                "MuseCore", "MuseInfra", "MuseHTTP", "MuseJSON", "MuseWorkerProtocol",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Links to config/models.yaml and openapi.yaml: the defaults every binary carries.
            resources: [.embedInCode("Resources/models.yaml"), .embedInCode("Resources/openapi.yaml"), .embedInCode("Resources/training.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "MuseInternal",
            dependencies: [
                "MuseCore", "MuseInfra", "MuseServer", "MuseHTTP", "MuseCurl", "MuseJSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "JWTKit", package: "jwt-kit"),
            ],
            // A link to openapi.internal.yaml: what muse-internal adds to openapi.yaml.
            resources: [.embedInCode("Resources/openapi.internal.yaml")],
            swiftSettings: strict),
        // A simulated GPU worker: the worker protocol and an HTTP server, none of the server's core.
        .executableTarget(
            name: "MuseWorkerSim",
            dependencies: [
                "MuseWorkerProtocol", "MuseHTTP", "MuseJSON", "MuseCurl", "CZlib", "COpenSSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The load client of scripts/bench/generation.sh.
        .executableTarget(
            name: "MuseBench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "MuseCloud",
            dependencies: [
                "MuseCore", "MuseInfra", "MuseServer", "MuseHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ], swiftSettings: strict),
        // The fuzzers' entry points (JSON, path + router, worker results), shared by muse-fuzz and the replay tests.
        .target(
            name: "MuseFuzzTargets",
            dependencies: ["MuseCore", "MuseServer", "MuseHTTP", "MuseJSON", "MuseWorkerProtocol", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strict
        ),
        .executableTarget(name: "MuseFuzz", dependencies: ["MuseFuzzTargets"], swiftSettings: strict),
        // Socket-level helpers shared by the test targets; linked by tests only.
        .target(
            name: "MuseTestSupport",
            dependencies: [
                "MuseHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "MuseJSONTests", dependencies: ["MuseJSON"], swiftSettings: strict),
        .testTarget(
            name: "MuseHTTPTests", dependencies: ["MuseHTTP", "MuseJSON", "MuseTestSupport", .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: strict),
        // The core's rules and services, without HTTP; services run on real SQLite stores in a temporary directory.
        .testTarget(name: "MuseCoreTests", dependencies: ["MuseCore", "MuseInfra", "MuseJSON", "MuseWorkerProtocol"], swiftSettings: strict),
        // The stores' contract: every port and every rule a store keeps, run against each store (SQLite now).
        .testTarget(name: "MuseStoreContractTests", dependencies: ["MuseCore", "MuseInfra", "MuseJSON", "MuseWorkerProtocol"], swiftSettings: strict),
        // SQLite specifics (migrations, triggers, group commit) and the C clients: PostgreSQL, Redis, libcurl, OpenSSL.
        .testTarget(
            name: "MuseInfraTests",
            dependencies: ["MuseInfra", "MuseCore", "MuseCurl", "MuseJSON", "MuseWorkerProtocol", "MuseTestSupport", "MuseServer"],
            swiftSettings: strict
        ),
        // The HTTP adapter and config, and the binaries end to end over real sockets.
        .testTarget(
            name: "MuseServerTests",
            dependencies: [
                "MuseServer", "MuseCore", "MuseInfra", "MuseHTTP", "MuseJSON", "MuseWorkerProtocol", "MuseTestSupport", "MuseFuzzTargets", "CZlib",
            ],
            swiftSettings: strict
        ),
    ]
)
