import Foundation
import MuseTestSupport
import Testing

/// muse-internal's company SSO over a real socket, against an IdP played by
/// `Tests/Fixtures/jwt_tool.py` (keys and signatures by the openssl command line).
@Suite(.serialized) struct SSOTests {
    static let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jwt_tool.py").path
    static let issuer = "https://idp.example.com"

    /// A directory with the IdP's keys and `jwks.json`.
    static func idp() async throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idp-\(UUID().uuidString)").path
        let (status, _) = try await ServerProcess.command("/usr/bin/env", ["python3", tool, "keys", dir])
        #expect(status == 0)
        return dir
    }

    /// Name → (token, whether it must be accepted).
    static func corpus(_ dir: String, skewSeconds: Int = 60) async throws -> [String: (token: String, accept: Bool)] {
        let (status, output) = try await ServerProcess.command("/usr/bin/env", ["python3", tool, "corpus", dir, issuer, "muse-internal", String(skewSeconds)])
        #expect(status == 0)
        let cases = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: Any]] ?? [:]
        return cases.compactMapValues { case_ in (case_["token"] as? String).map { ($0, case_["accept"] as? Bool ?? false) } }
    }

    static func environment(jwksFile: String? = nil, jwksURL: String? = nil) -> [String: String] {
        var environment = ["MUSE_SSO_ISSUER": issuer, "MUSE_SSO_DEV_KEY": "false"]
        if let jwksFile { environment["MUSE_SSO_JWKS_FILE"] = jwksFile }
        if let jwksURL { environment["MUSE_SSO_JWKS_URL"] = jwksURL }
        return environment
    }

    static func call(_ port: Int, _ method: String, _ path: String, token: String, body: String? = nil) async throws -> RawResponse {
        var headers = ["Authorization": "Bearer \(token)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await RawHTTPClient(port: port).request(method, path, headers: headers, body: body)
    }

    @Test func everyTokenOfTheCorpusIsAcceptedOrRefusedAsItShouldBe() async throws {
        let dir = try await Self.idp()
        let server = try ServerProcess.serve("muse-internal", environment: Self.environment(jwksFile: dir + "/jwks.json"))
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let corpus = try await Self.corpus(dir)
        #expect(corpus.values.filter { !$0.accept }.count >= 12)
        var refused = 0
        for (name, (token, accept)) in corpus.sorted(by: { $0.key < $1.key }) {
            let response = try await Self.call(server.port, "GET", "/v1/me", token: token)
            if accept {
                #expect(response.status == 200, "\(name): \(response.text)")
                #expect(response.json["id"] as? String == "alice" && response.json["teams"] as? [String] == ["design", "brand"], "\(name)")
            } else {
                #expect(response.status == 401, "\(name): \(response.text)")
                #expect(response.headers["content-type"] == "application/problem+json" && response.json["code"] as? String == "unauthenticated", "\(name)")
                refused += 1
            }
        }
        print("SSO corpus: \(corpus.count) tokens, \(refused) refused with 401, \(corpus.count - refused) accepted")
    }

    /// An IdP's JWKS may hold keys this server cannot use (a symmetric key, a key type jwt-kit does
    /// not know, a repeated kid): they are skipped, the others work. One token, one spelling.
    @Test func oddKeysAreSkippedAndATokenHasOneSpelling() async throws {
        let dir = try await Self.idp()
        let jwks = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/jwks.json"))) as? [String: Any]
        var keys = jwks?["keys"] as? [[String: Any]] ?? []
        keys.insert(["kty": "oct", "kid": "hs", "alg": "HS256", "k": "c2VjcmV0"], at: 0)
        keys.append(["kty": "FUTURE", "kid": "f-1", "alg": "XX1"])
        keys.append(["kty": "RSA", "kid": "ec-1", "alg": "RS256", "n": "AQAB", "e": "AQAB"])
        let odd = dir + "/odd-jwks.json"
        try JSONSerialization.data(withJSONObject: ["keys": keys]).write(to: URL(fileURLWithPath: odd))
        let server = try ServerProcess.serve("muse-internal", environment: Self.environment(jwksFile: odd))
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let corpus = try await Self.corpus(dir)
        for name in ["valid RS256", "valid ES256", "valid EdDSA"] {
            #expect(try await Self.call(server.port, "GET", "/v1/me", token: corpus[name]?.token ?? "").status == 200, "\(name)")
        }
        let valid = try #require(corpus["valid RS256"]?.token)
        #expect(try await Self.call(server.port, "GET", "/v1/me", token: valid + "=").status == 401, "padding is another spelling")
        // Canonically equivalent text is not the same token: the verified-token memory is by bytes.
        if let k = valid.firstIndex(of: "K") {
            var kelvin = valid
            kelvin.replaceSubrange(k...k, with: "\u{212A}")
            #expect(try await Self.call(server.port, "GET", "/v1/me", token: kelvin).status == 401)
        }
    }

    /// The development key is created 0600, also in a data directory others may read.
    @Test func theDevelopmentKeyIsCreatedPrivate() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-dev-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let (status, _) = try await ServerProcess.command("muse-internal", ["dev-token", "--user", "alice", "--data-dir", dataDir])
        #expect(status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: dataDir + "/sso-dev-key.pem")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A verified token is remembered (one signature check a minute), never past its expiry.
    @Test func aRememberedTokenStillExpires() async throws {
        let dir = try await Self.idp()
        var environment = Self.environment(jwksFile: dir + "/jwks.json")
        environment["MUSE_SSO_CLOCK_SKEW_MS"] = "0"
        let server = try ServerProcess.serve("muse-internal", environment: environment)
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let (status, output) = try await ServerProcess.command("/usr/bin/env", ["python3", Self.tool, "token", dir, Self.issuer, "muse-internal", "2"])
        #expect(status == 0)
        let token = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.call(server.port, "GET", "/v1/me", token: token).status == 200)
        #expect(try await Self.call(server.port, "GET", "/v1/me", token: token).status == 200)
        try await Task.sleep(for: .seconds(3))
        let late = try await Self.call(server.port, "GET", "/v1/me", token: token)
        #expect(late.status == 401 && late.json["detail"] as? String == "token refused: expired")
    }

    @Test func tasksBelongToTheirUserAndAnotherUsersIdIs404() async throws {
        let server = try ServerProcess.serve("muse-internal")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        func token(_ user: String) async throws -> String {
            let (status, output) = try await ServerProcess.command("muse-internal", ["dev-token", "--user", user, "--data-dir", server.dataDir!])
            #expect(status == 0)
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let alice = try await token("alice")
        let bob = try await token("bob")
        let submitted = try await Self.call(server.port, "POST", "/v1/generations", token: alice, body: #"{"model":"sd15-base","prompt":"mine"}"#)
        #expect(submitted.status == 202, "\(submitted.text)")
        let id = submitted.json["id"] as? String ?? ""
        #expect(try await Self.call(server.port, "GET", "/v1/generations/\(id)", token: alice).status == 200)
        #expect(try await Self.call(server.port, "GET", "/v1/generations/\(id)", token: bob).status == 404)
        #expect(try await Self.call(server.port, "POST", "/v1/generations/\(id)/cancel", token: bob).status == 404)
        let list = try await Self.call(server.port, "GET", "/v1/generations", token: bob)
        #expect((list.json["data"] as? [Any])?.isEmpty == true, "nothing of alice's in bob's list")
    }

    @Test func aDevelopmentTokenIsRefusedWhereTheConfigHasNoDevelopmentKey() async throws {
        let dir = try await Self.idp()
        let server = try ServerProcess.serve("muse-internal", environment: Self.environment(jwksFile: dir + "/jwks.json"))
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let command = try ServerProcess(
            "muse-internal", arguments: ["dev-token", "--user", "alice", "--data-dir", server.dataDir!], environment: Self.environment())
        #expect(await command.waitForExit() == 1, "no development key under this config")
        // A token made with a development key elsewhere names a kid this server does not have.
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("muse-dev-\(UUID().uuidString)").path
        let made = try await ServerProcess.command("muse-internal", ["dev-token", "--user", "alice", "--data-dir", elsewhere])
        #expect(made.status == 0)
        let response = try await Self.call(server.port, "GET", "/v1/me", token: made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(response.status == 401)
    }

    /// Keys from a JWKS URL: fetched at start-up, kept while the IdP is down, and fetched again for
    /// an unknown kid when the IdP was down at start-up.
    @Test func jwksFromAURLSurviveTheIdPGoingDownAndAreFetchedOnceItComesUp() async throws {
        let dir = try await Self.idp()
        let corpus = try await Self.corpus(dir)
        let valid = try #require(corpus["valid ES256"]?.token)
        let port = freePort()
        func idpServer() throws -> ServerProcess {
            try ServerProcess("/usr/bin/env", arguments: ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], port: port)
        }
        // Down at start-up: no key, nothing accepted; up later: the unknown kid fetches the keys.
        let server = try ServerProcess.serve("muse-internal", environment: Self.environment(jwksURL: "http://127.0.0.1:\(port)/jwks.json"))
        defer { server.stop() }
        try await server.waitUntilHealthy()
        #expect(try await Self.call(server.port, "GET", "/v1/me", token: valid).status == 401)
        let idp = try idpServer()
        try await Self.waitForPort(port)
        // The refetch for an unknown kid is at most once a minute; the refused call above used it.
        // A refresh after a failed fetch comes within 30 s.
        let deadline = ContinuousClock.now + .seconds(45)
        var status = 0
        while ContinuousClock.now < deadline {
            status = try await Self.call(server.port, "GET", "/v1/me", token: valid).status
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(status == 200)
        idp.stop()
        #expect(try await Self.call(server.port, "GET", "/v1/me", token: valid).status == 200, "cached keys keep working while the IdP is down")
        #expect(try await Self.call(server.port, "GET", "/v1/me", token: corpus["unknown kid"]?.token ?? "").status == 401)
    }

    @Test func theKubernetesConfigLoadsWithMuseInternalsOwnKeys() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/internal.yaml").path
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-data-\(UUID().uuidString)").path
        let (status, table) = try await ServerProcess.command("muse-internal", ["routes", "--config", file, "--data-dir", dataDir])
        #expect(status == 0)
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("GET ") && $0.contains(" /v1/me ") })
        let cloud = try await ServerProcess.command("muse-cloud", ["routes", "--config", file, "--data-dir", dataDir])
        #expect(cloud.status == 78, "sso.* keys are unknown to muse-cloud")
    }

    static func waitForPort(_ port: Int) async throws {
        for _ in 0..<100 {
            if (try? await RawHTTPClient(port: port)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
