import Foundation
import MuseTestSupport
import Testing

/// Access through the binaries over a real socket: the worker routes under every spelling of
/// their path and with every wrong credential, and every `/v1` route found in the binary's own
/// route table without credentials.
@Suite(.serialized) struct AccessMatrixTests {
    /// The worker routes with a body each would accept from a worker.
    static let workerRoutes: [(method: String, path: String, body: String)] = [
        (
            "POST", "/internal/v1/workers",
            #"{"worker_id":"evil-1","url":"http://127.0.0.1:1","abilities":["txt2img","img2img"],"slots":4,"models_loaded":["sd15-base"]}"#
        ),
        ("POST", "/internal/v1/workers/evil-1/heartbeat", #"{"busy":0,"running":[],"queue":0,"models_loaded":["sd15-base"]}"#),
        ("DELETE", "/internal/v1/workers/w-1", ""),
        ("POST", "/internal/v1/attempts/att_0123456789abcdefghjkmnpqrs/progress", #"{"step":1,"total_steps":2}"#),
        ("POST", "/internal/v1/attempts/att_0123456789abcdefghjkmnpqrs/result", #"{"status":"failed","error":{"code":"internal","message":"forged"}}"#),
    ]

    /// Spellings of `path` that a prefix check and a router could read differently.
    static func variants(of path: String) -> [String] {
        let rest = path.dropFirst("/internal/v1/".count)
        return [
            path, "/" + path, "//" + path.dropFirst(), "/internal//v1/\(rest)", "/internal/v1//\(rest)", path + "/", path + "//",
            "/internal/v1/./\(rest)", "/internal/./v1/\(rest)", "/x/../internal/v1/\(rest)", "/v1/../internal/v1/\(rest)",
            "/internal/v1/%2e/\(rest)", "/internal/v1/%2E%2E/v1/\(rest)", "/internal%2fv1/\(rest)", "/internal%2Fv1%2F\(rest)",
            "/internal/v1%5c\(rest)", "/INTERNAL/v1/\(rest)", "/Internal/V1/\(rest)", "/internal/V1/\(rest)", "/%69nternal/v1/\(rest)",
        ]
    }

    @Test func noWorkerRouteAnswers2xxToAnySpellingWithoutTheWorkerToken() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let credentials: [(name: String, headers: [String: String])] = [
            ("tenant key", ["Authorization": "Bearer \(pipeline.key)"]), ("none", [:]), ("wrong token", ["Authorization": "Bearer wrong-token"]),
            ("token prefix", ["Authorization": "Bearer "]), ("basic", ["Authorization": "Basic d29ya2VyOnRva2Vu"]),
        ]
        var byStatus: [Int: Int] = [:]
        var tried = 0
        for route in Self.workerRoutes {
            for path in Self.variants(of: route.path) {
                for credential in credentials {
                    var headers = credential.headers
                    if !route.body.isEmpty { headers["Content-Type"] = "application/json" }
                    let response = try await RawHTTPClient(port: pipeline.server.port)
                        .request(route.method, path, headers: headers, body: route.body.isEmpty ? nil : route.body)
                    tried += 1
                    byStatus[response.status, default: 0] += 1
                    #expect(!(200..<300).contains(response.status), "\(route.method) \(path) with \(credential.name): \(response.status)")
                    #expect(response.headers["content-type"] == "application/problem+json", "\(route.method) \(path)")
                }
            }
        }
        print(
            "access matrix: \(Self.workerRoutes.count) worker routes × \(Self.variants(of: "/internal/v1/workers").count) spellings × \(credentials.count) credentials = \(tried) requests; by status: \(byStatus.sorted { $0.key < $1.key })"
        )
        // The registry is unchanged: no forged worker, so a task waits for a real one.
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"after the attack","steps":2,"width":256,"height":256}"#)
        try await Task.sleep(for: .seconds(1))
        #expect(try await pipeline.call("GET", "/v1/generations/\(id)").json["status"] as? String == "queued")
        #expect(!(try await pipeline.metrics()).contains("evil-1"))
        // With the token, the canonical path works.
        let token = try String(contentsOfFile: pipeline.server.dataDir! + "/worker-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let forgedByTokenHolder = try await RawHTTPClient(port: pipeline.server.port).request(
            "POST", "/internal/v1/workers/nobody/heartbeat", headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
            body: #"{"busy":0,"running":[],"queue":0,"models_loaded":[]}"#
        )
        #expect(forgedByTokenHolder.status == 404, "the token opens the route; an unknown worker is then 404")
    }

    /// Both binaries serve the one shared stack, each behind its own `/v1` filter (API keys,
    /// company SSO): without credentials no route answers.
    @Test(arguments: ["muse-cloud", "muse-internal"])
    func everyV1RouteInTheRouteTableRefusesARequestWithoutCredentials(_ binary: String) async throws {
        let server = try ServerProcess.serve(binary)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let (status, table) = try await ServerProcess.command(binary, ["routes", "--data-dir", server.dataDir!])
        #expect(status == 0)
        let routes = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(routes.count >= 25, "\(table)")
        let listed = Set(routes.filter { $0.count == 3 }.map { "\($0[0]) \($0[1])" })
        for expected in ["POST /v1/generations", "GET /v1/presets", "GET /v1/models", "POST /internal/v1/workers"] {
            #expect(listed.contains(expected), "\(binary) lacks \(expected)")
        }
        // The documented public routes; everything else under /v1 or /internal must be guarded.
        let publicRoutes: Set<String> = ["GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/openapi.yaml"]
        var checked = 0
        for route in routes where route.count == 3 {
            let (method, pattern, group) = (route[0], route[1], route[2])
            if publicRoutes.contains("\(method) \(pattern)") {
                #expect(group == "public")
                continue
            }
            #expect(pattern.hasPrefix("/v1/") || pattern.hasPrefix("/internal/v1/"), "\(pattern) is neither public nor under a guarded prefix")
            #expect(group == (pattern.hasPrefix("/v1/") ? "api" : "workers"), "\(method) \(pattern) is in group \(group)")
            let path = pattern.replacing(/\{[a-z_]+\}/, with: "x1")
            for headers in [[:], ["Authorization": "Bearer mk_not_a_key"], ["Authorization": "Bearer wrong"]] {
                let response = try await RawHTTPClient(port: server.port)
                    .request(
                        method, path, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                        body: method == "GET" || method == "DELETE" ? nil : "{}")
                #expect(response.status == 401, "\(method) \(path) \(headers): \(response.status)")
                #expect(response.json["code"] as? String == "unauthenticated")
            }
            checked += 1
        }
        #expect(checked >= 20)
    }

    @Test(arguments: ["muse-cloud", "muse-internal"])
    func anUnknownPathIs404WhateverTheCredentials(_ binary: String) async throws {
        let server = try ServerProcess.serve(binary)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        for headers in [[:], ["Authorization": "Bearer mk_whatever"], ["Authorization": "Bearer some.jwt.token"]] {
            for path in ["/no/such/route", "/v1/no-such-thing", "/internal/v1/nothing", "/"] {
                let response = try await RawHTTPClient(port: server.port).request("GET", path, headers: headers)
                #expect(response.status == 404, "\(binary) GET \(path) \(headers)")
                #expect(response.headers["content-type"] == "application/problem+json")
            }
            let wrongMethod = try await RawHTTPClient(port: server.port).request("DELETE", "/healthz", headers: headers)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["allow"] == "GET, HEAD")
        }
    }

    /// Resident memory of a process, in KiB (Linux).
    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test func memoryStaysFlatWhile20UnauthenticatedClientsStream100MiBEach() async throws {
        let server = try ServerProcess.serve("muse-cloud")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let pid = server.process.processIdentifier
        let before = Self.rssKiB(pid)
        let peak = PeakValue<Int>(before)
        let sampling = Task {
            while !Task.isCancelled {
                peak.max(Self.rssKiB(pid))
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let client = try await RawHTTPClient(port: server.port)
                    try await client.send(
                        "POST /internal/v1/attempts/att_0123456789abcdefghjkmnpqrs/result HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(100 << 20)\r\n\r\n"
                    )
                    var sent = 0
                    // Until the server has answered and closed (a send then fails) or all 100 MiB went.
                    while sent < 100 << 20, (try? await client.send(chunk)) != nil { sent += chunk.count }
                    return sent
                }
            }
            return try await group.reduce(0, +)
        }
        try await Task.sleep(for: .milliseconds(200))
        sampling.cancel()
        let grew = peak.load() - before
        print(
            "unauthenticated uploads: 20 clients, \(sent >> 20) MiB accepted by the socket before the server closed; RSS \(before / 1024) MiB before, peak \(peak.load() / 1024) MiB (+\(grew / 1024) MiB)"
        )
        #expect(grew < 64 * 1024, "RSS grew by \(grew / 1024) MiB")
        #expect(try await RawHTTPClient(port: server.port).request("GET", "/healthz").status == 200)
    }

    @Test func aClientThatPipelinesWithoutReadingIsHeldBackOnGuardedRoutes() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let pid = pipeline.server.process.processIdentifier
        let before = Self.rssKiB(pid)
        let client = try await RawHTTPClient(port: pipeline.server.port)
        let request = "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(pipeline.key)\r\n\r\n"
        let burst = [UInt8](String(repeating: request, count: 400_000).utf8)
        // ~40 MB of requests, and no answer read: once the answers fill the socket, reading must stop.
        let sending = Task { try? await client.send(burst) }
        try await Task.sleep(for: .seconds(6))
        let grew = Self.rssKiB(pid) - before
        client.shutdown()
        _ = await sending.value
        print("pipelining without reading: 400,000 requests sent at a guarded route; RSS +\(grew / 1024) MiB after 6 s")
        #expect(grew < 100 * 1024, "RSS grew by \(grew / 1024) MiB")
    }
}

/// The largest value seen, from several tasks.
final class PeakValue<Value: Comparable & Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func max(_ candidate: Value) { lock.withLock { value = Swift.max(value, candidate) } }
    func load() -> Value { lock.withLock { value } }
}
