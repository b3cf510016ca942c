import Foundation
import MuseTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Both binaries as an operator runs them: the embedded default, operations routes, their own
/// security filter, config errors, and SIGTERM.
@Suite(.serialized) struct BinaryTests {
    @Test(arguments: ["muse-cloud", "muse-internal"])
    func servesOperationsRoutesOnTheEmbeddedDefault(_ binary: String) async throws {
        let server = try ServerProcess.serve(binary)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let client = try await RawHTTPClient(port: server.port)
        let health = try await client.request("GET", "/healthz")
        #expect(health.status == 200)
        #expect(health.json["status"] as? String == "ok")
        #expect(try await client.request("GET", "/readyz").status == 200)
        let metrics = try await client.request("GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains(#"http_requests_total{route="/healthz",method="GET",status="200"}"#))
        #expect(metrics.text.contains("http_request_duration_seconds_bucket"))
        // The profile's security filter guards the API group: API keys, or company SSO tokens.
        let protected = try await client.request("GET", "/v1/generations")
        #expect(protected.status == 401)
        #expect(protected.json["code"] as? String == "unauthenticated")
        #expect(protected.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
    }

    @Test(arguments: ["muse-cloud", "muse-internal"])
    func sigtermTurnsReadyzTo503ThenDrainsAndExitsZero(_ binary: String) async throws {
        // A drain delay long enough for a loaded machine: the two requests below must land inside it.
        let server = try ServerProcess.serve(binary, environment: ["MUSE_SERVER_DRAIN_DELAY_MS": "5000"])
        defer { server.stop() }
        try await server.waitUntilHealthy()
        #expect(try await RawHTTPClient(port: server.port).request("GET", "/readyz").status == 200)
        server.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))
        // New connections, as a kubelet's probes make.
        let draining = try await RawHTTPClient(port: server.port).request("GET", "/readyz")
        #expect(draining.status == 503)
        #expect(draining.json["code"] as? String == "unavailable")
        #expect(try await RawHTTPClient(port: server.port).request("GET", "/healthz").status == 200, "alive while draining")
        #expect(await server.waitForExit() == 0)
    }

    @Test func aWrongConfigKeyFailsStartUpWithOneLineNamingIt() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml").path
        try "server:\n  port: 8080\n  max_body_byte: 10\n".write(toFile: file, atomically: true, encoding: .utf8)
        let server = try ServerProcess("muse-cloud", arguments: ["serve", "--config", file])
        #expect(await server.waitForExit() == 78)
        #expect(server.readStderr() == "config: server.max_body_byte: unknown key\n")
    }

    @Test func aWrongEnvironmentValueFailsStartUpWithOneLineNamingIt() async throws {
        let server = try ServerProcess("muse-internal", arguments: [], environment: ["MUSE_SERVER_PORT": "http"])
        #expect(await server.waitForExit() == 78)
        #expect(server.readStderr() == "config: server.port: must be an integer\n")
    }

    @Test func serveIsTheDefaultSubcommandAndFlagsWork() async throws {
        let port = freePort()
        let server = try ServerProcess("muse-cloud", arguments: ["--port", String(port), "--host", "127.0.0.1"], port: port)
        defer { server.stop() }
        try await server.waitUntilHealthy()
    }

    @Test func theDataDirectoryAndItsSecretsAreTheServersAlone() async throws {
        let server = try ServerProcess.serve("muse-cloud")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0) & 0o777
        }
        let dir = server.dataDir!
        #expect(try mode(dir) == 0o700)
        #expect(try mode(dir + "/muse.sqlite") == 0o600)
        #expect(try mode(dir + "/worker-token") == 0o600)
        #expect(try mode(dir + "/images") == 0o700)
    }

    @Test func startedFromAnotherDirectoryItHasTheCatalogueAndTheOpenAPIDocument() async throws {
        let server = try ServerProcess.serve("muse-cloud", workingDirectory: "/")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let key = try await GenerationsAPITests.createKey(tenant: "acme", dataDir: server.dataDir!)
        let client = try await RawHTTPClient(port: server.port)
        let submitted = try await client.request(
            "POST", "/v1/generations", headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
            body: #"{"model":"sd15-base","prompt":"from /","width":512,"height":512}"#
        )
        #expect(submitted.status == 202, "\(submitted.text)")
        let models = try await client.request("GET", "/v1/models", headers: ["Authorization": "Bearer \(key)"])
        #expect((models.json["data"] as? [Any])?.count ?? 0 >= 6, "the built-in catalogue: \(models.text)")
        let document = try await client.request("GET", "/v1/openapi.yaml")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("openapi.yaml")
        #expect(document.status == 200)
        #expect(document.text == (try String(contentsOf: repository, encoding: .utf8)), "the document built in is the repository's")
    }

    @Test func aNamedCatalogueFileThatIsMissingStopsStartUp() async throws {
        let server = try ServerProcess.serve("muse-cloud", environment: ["MUSE_CATALOG_FILE": "/nonexistent/models.yaml"])
        #expect(await server.waitForExit() != 0)
        #expect(server.readStderr().contains("/nonexistent/models.yaml"))
    }

    @Test func apiKeysAreStoredHashedAndResolveToTheirTenant() async throws {
        let server = try ServerProcess.serve("muse-cloud")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let secret = try await GenerationsAPITests.createKey(tenant: "acme", dataDir: server.dataDir!)
        #expect(secret.hasPrefix("mk_"))
        let dump = try await ServerProcess.command(
            "/usr/bin/env",
            [
                "python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT * FROM api_keys').fetchall())",
                server.dataDir! + "/muse.sqlite",
            ])
        #expect(dump.stdout.contains("acme") && !dump.stdout.contains(secret), "only the secret's hash is stored")
        let client = try await RawHTTPClient(port: server.port)
        #expect(try await client.request("GET", "/v1/generations", headers: ["Authorization": "Bearer \(secret)"]).status == 200)
        #expect(try await client.request("GET", "/v1/generations", headers: ["Authorization": "Bearer mk_nope"]).status == 401)
    }

    /// API keys are muse-cloud's own table, team keys muse-internal's: each `migrate` makes only its own.
    @Test func eachProfileMigratesOnlyItsOwnTables() async throws {
        func tables(_ binary: String) async throws -> String {
            let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-data-\(UUID().uuidString)").path
            let (status, _) = try await ServerProcess.command(binary, ["migrate", "--data-dir", dataDir])
            #expect(status == 0)
            let query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name; SELECT * FROM schema_tracks"
            let dump = try await ServerProcess.command(
                "/usr/bin/env",
                [
                    "python3", "-c",
                    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print([r for q in sys.argv[2].split(';') for r in c.execute(q)])",
                    dataDir + "/muse.sqlite", query,
                ])
            return dump.stdout
        }
        let cloud = try await tables("muse-cloud")
        #expect(cloud.contains("('api_keys',)") && cloud.contains("('cloud', 1)") && cloud.contains("('tasks',)"), "\(cloud)")
        #expect(!cloud.contains("team_keys") && !cloud.contains("'internal'"), "\(cloud)")
        let company = try await tables("muse-internal")
        #expect(!company.contains("api_keys") && !company.contains("cloud") && company.contains("('tasks',)"), "\(company)")
        #expect(
            company.contains("('team_keys',)") && company.contains("('community_posts',)") && company.contains("('internal', 2)"), "\(company)")
        #expect(!cloud.contains("community"), "\(cloud)")
    }

    /// The server stops first on SIGTERM (readiness 503, drain), then the scheduler and the rest:
    /// every submit answered 202 during the burst is in the store after a restart.
    @Test func sigtermDuringABurstOfSubmitsLosesNoAcceptedTask() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-data-\(UUID().uuidString)").path
        let server = try ServerProcess.serve("muse-cloud", environment: ["MUSE_SERVER_DRAIN_DELAY_MS": "200"], dataDir: dataDir)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let key = try await GenerationsAPITests.createKey(tenant: "acme", dataDir: dataDir)
        let body = #"{"model":"sd15-base","prompt":"a burst","steps":2,"width":256,"height":256}"#
        let headers = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
        let port = server.port
        let accepted = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ids: [String] = []
                    // Until the listener is gone: each submit on a new connection, as a stream of clients would.
                    while let client = try? await RawHTTPClient(port: port, receiveTimeout: 5),
                        let response = try? await client.request("POST", "/v1/generations", headers: headers, body: body)
                    {
                        if response.status == 202, let id = response.json["id"] as? String { ids.append(id) }
                        if ids.count > 2000 { break }
                    }
                    return ids
                }
            }
            try await Task.sleep(for: .milliseconds(400))
            server.signal(SIGTERM)
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(await server.waitForExit() == 0)
        #expect(accepted.count > 0)

        let restarted = try ServerProcess.serve("muse-cloud", dataDir: dataDir)
        defer { restarted.stop() }
        try await restarted.waitUntilHealthy()
        var missing: [String] = []
        for id in accepted {
            let response = try await RawHTTPClient(port: restarted.port).request("GET", "/v1/generations/\(id)", headers: headers)
            if response.status != 200 { missing.append(id) }
        }
        print("SIGTERM during a burst: \(accepted.count) submits accepted, \(missing.count) missing after restart")
        #expect(missing.isEmpty, "accepted but lost: \(missing.prefix(5))")
    }

    /// A connection holding half a request head when SIGTERM comes: drained and closed, exit 0.
    @Test func sigtermWithAHalfSentHeadExitsCleanly() async throws {
        let server = try ServerProcess.serve("muse-cloud", environment: ["MUSE_SERVER_DRAIN_DELAY_MS": "100"])
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let client = try await RawHTTPClient(port: server.port)
        try await client.send("POST /internal/v1/workers HTTP/1.1\r\nHost: x\r\nContent-Le")
        try await Task.sleep(for: .milliseconds(200))
        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
    }
}
