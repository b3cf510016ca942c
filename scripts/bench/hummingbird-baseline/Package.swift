// swift-tools-version: 6.2
// The comparison server of scripts/bench/http.sh: a minimal Hummingbird 2 app answering the
// same JSON on the same route as muse-cloud's /healthz. Built only by the bench.
import PackageDescription

let package = Package(
    name: "hummingbird-baseline",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdBaseline",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
    ]
)
