import Foundation
import MuseTestSupport
import Testing

/// The two servers, each with its own callers: muse-cloud's API keys, muse-internal's SSO tokens
/// (development tokens, from the key its embedded default makes).
enum Binary: String, CaseIterable, CustomTestStringConvertible {
    case cloud = "muse-cloud"
    case `internal` = "muse-internal"

    var testDescription: String { rawValue }

    /// A credential for `tenant` (a user, in muse-internal) on the server with `dataDir`.
    func credential(_ tenant: String, dataDir: String) async throws -> String {
        switch self {
        case .cloud:
            return try await GenerationsAPITests.createKey(tenant: tenant, dataDir: dataDir)
        case .internal:
            let (status, output) = try await ServerProcess.command(rawValue, ["dev-token", "--user", tenant, "--data-dir", dataDir])
            #expect(status == 0)
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// A running server (muse-cloud unless told) with a caller "acme", and what the pipeline tests
/// do with it: call the API, start simulated workers, submit and poll tasks, read metrics.
struct PipelineFixture {
    let server: ServerProcess
    let binary: Binary
    let key: String

    /// `environment` carries `MUSE_…` overrides; `extra` more `serve` flags (e.g. `--config`).
    static func start(
        binary: Binary = .cloud, environment: [String: String] = [:], extra: [String] = [], dataDir: String? = nil
    ) async throws
        -> PipelineFixture
    {
        let server = try ServerProcess.serve(binary.rawValue, extra: extra, environment: environment, dataDir: dataDir)
        try await server.waitUntilHealthy()
        return PipelineFixture(server: server, binary: binary, key: try await binary.credential("acme", dataDir: server.dataDir!))
    }

    /// A credential for another caller of the same server.
    func credential(_ tenant: String) async throws -> String {
        try await binary.credential(tenant, dataDir: server.dataDir!)
    }

    /// A simulated worker registered with this server (it has the sd15-base model loaded).
    func worker(latencyMs: Int = 30, port: Int = freePort(), id: String? = nil, extra: [String] = []) throws -> ServerProcess {
        var arguments = [
            "--port", String(port), "--server", "http://127.0.0.1:\(server.port)", "--token-file", server.dataDir! + "/worker-token",
            "--latency-ms", String(latencyMs), "--model-load-ms", "50", "--models", "sd15-base",
        ]
        if let id { arguments += ["--worker-id", id] }
        return try ServerProcess("muse-worker-sim", arguments: arguments + extra, port: port)
    }

    func call(_ method: String, _ path: String, body: String? = nil, key: String? = nil) async throws -> RawResponse {
        let client = try await RawHTTPClient(port: server.port)
        var headers = ["Authorization": "Bearer \(key ?? self.key)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await client.request(method, path, headers: headers, body: body)
    }

    /// Polls the task until `done` holds (or 30 s pass); every status seen along the way.
    func poll(_ id: String, until done: ([String: Any]) -> Bool) async throws -> (task: [String: Any], seen: [String]) {
        var seen: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let task = try await call("GET", "/v1/generations/\(id)").json
            if let status = task["status"] as? String, seen.last != status { seen.append(status) }
            if done(task) { return (task, seen) }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("task \(id) did not get there; saw \(seen)")
        return ([:], seen)
    }

    func submit(_ body: String) async throws -> String {
        let response = try await call("POST", "/v1/generations", body: body)
        #expect(response.status == 202, "\(response.text)")
        return response.json["id"] as? String ?? ""
    }

    func metrics() async throws -> String {
        try await RawHTTPClient(port: server.port).request("GET", "/metrics").text
    }

    func stop() {
        server.stop()
    }
}
