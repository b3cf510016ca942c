import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `muse-bench`: submits N generations over C keep-alive connections and reports durable
/// submit throughput and latency. Models are drawn from a Zipf distribution (seeded, so two
/// runs get the same input).
struct MuseBench: ParsableArguments {
    @Option(help: "Server host.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "API key.") var key: String
    @Option(help: "Tasks to submit.") var tasks = 5000
    @Option(help: "Concurrent connections.") var concurrency = 32
    @Option(help: "model:size pairs, most popular first.") var models =
        "sd15-base:256,sd15-anime:256,sdxl-base:512,sd15-photo:256,sdxl-illustration:512,sdxl-product:512"
    @Option(help: "Zipf exponent.") var zipf = 1.0
    @Option(help: "Random seed for the model draw.") var seed: UInt64 = 42
    @Option(help: "Denoising steps per task.") var steps = 20

    func execute() async throws {
        let choices = models.split(separator: ",").map { pair -> (String, Int) in
            let parts = pair.split(separator: ":")
            return (String(parts[0]), Int(parts[1]) ?? 512)
        }
        let weights = (1...choices.count).map { 1 / pow(Double($0), zipf) }
        let total = weights.reduce(0, +)
        var rng = SplitMix(seed)
        let bodies: [String] = (0..<tasks).map { i in
            var r = Double(rng.next() % 1_000_000) / 1_000_000 * total
            var pick = 0
            while pick < choices.count - 1, r >= weights[pick] { r -= weights[pick]; pick += 1 }
            let (model, size) = choices[pick]
            return #"{"model":"\#(model)","prompt":"bench \#(i)","seed":\#(i),"steps":\#(steps),"width":\#(size),"height":\#(size)}"#
        }

        let next = Tickets()
        let target = Target(host: host, port: port, key: key)
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for _ in 0..<concurrency {
                group.addTask { try await Self.submitLoop(target, bodies: bodies, next: next) }
            }
            var latencies: [Double] = []
            var errors = 0
            for try await (part, failed) in group {
                latencies += part
                errors += failed
            }
            return (latencies, errors)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = results.0.sorted()
        func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        print(
            String(
                format: #"{"submitted": %d, "errors": %d, "seconds": %.3f, "tasks_per_s": %.1f, "p50_ms": %.2f, "p99_ms": %.2f}"#,
                sorted.count, results.1, seconds, Double(sorted.count) / seconds, pct(0.5), pct(0.99)))
    }

    struct Target: Sendable {
        var host: String
        var port: Int
        var key: String
    }

    final class Tickets: Sendable {
        let value = Atomic<Int>(0)
    }

    private static func submitLoop(_ target: Target, bodies: [String], next: Tickets) async throws -> ([Double], Int) {
        let (host, key) = (target.host, target.key)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        var latencies: [Double] = []
        var errors = 0
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            while true {
                let i = next.value.add(1, ordering: .relaxed).oldValue
                guard i < bodies.count else { break }
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/generations")
                head.headers.add(name: "Host", value: host)
                head.headers.add(name: "Authorization", value: "Bearer \(key)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(bodies[i].utf8.count))
                let sent = ContinuousClock.now
                try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(string: bodies[i]))), .end(nil)])
                var status = 0
                while let part = try await responses.next() {
                    if case .head(let response) = part { status = Int(response.status.code) }
                    if case .end = part { break }
                }
                let took = ContinuousClock.now - sent
                latencies.append(Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15)
                if status != 202 { errors += 1 }
            }
        }
        return (latencies, errors)
    }
}

struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

do {
    try await MuseBench.parse().execute()
} catch {
    MuseBench.exit(withError: error)
}
