import Foundation
import MuseTestSupport
import Testing

/// muse-internal's team service keys: made and revoked by a team's admins, acting as the team.
@Suite(.serialized) struct TeamKeysTests {
    struct Fixture {
        let server: ServerProcess

        func token(_ user: String, _ flags: [String] = []) async throws -> String {
            let (status, output) = try await ServerProcess.command("muse-internal", ["dev-token", "--user", user, "--data-dir", server.dataDir!] + flags)
            #expect(status == 0)
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func call(_ method: String, _ path: String, _ token: String, body: String? = nil) async throws -> RawResponse {
            try await SSOTests.call(server.port, method, path, token: token, body: body)
        }
    }

    @Test func anAdminMakesAKeyThatActsAsTheTeamUntilRevoked() async throws {
        let server = try ServerProcess.serve("muse-internal")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let given = Fixture(server: server)
        let admin = try await given.token("alice", ["--admin-team", "design"])
        let member = try await given.token("bob", ["--team", "design"])
        let outsider = try await given.token("carol", ["--team", "other"])
        let body = #"{"team":"design","name":"erp batch"}"#

        #expect(try await given.call("POST", "/v1/team-keys", member, body: body).status == 403, "a member who is not an admin")
        #expect(try await given.call("POST", "/v1/team-keys", outsider, body: body).status == 404, "not a member: the team is not there")
        #expect(try await given.call("POST", "/v1/team-keys", admin, body: #"{"team":"../x","name":"n"}"#).status == 400)
        #expect(try await given.call("POST", "/v1/team-keys", admin, body: #"{"team":"design","name":""}"#).status == 400)
        let heavy = #"{"team":"design","name":"a"# + String(repeating: #"\u0301"#, count: 150) + #""}"#
        #expect(try await given.call("POST", "/v1/team-keys", admin, body: heavy).status == 400, "100 scalars at most, however they combine")
        #expect(try await given.call("POST", "/v1/team-keys", admin, body: #"{"team":"design","name":"\u202eevil"}"#).status == 400)

        let created = try await given.call("POST", "/v1/team-keys", admin, body: body)
        #expect(created.status == 201, "\(created.text)")
        let secret = try #require(created.json["secret"] as? String)
        let id = try #require(created.json["id"] as? String)
        #expect(secret.hasPrefix("msk_"))
        let listed = try await given.call("GET", "/v1/team-keys", admin)
        let keys = listed.json["data"] as? [[String: Any]] ?? []
        #expect(keys.map { $0["id"] as? String } == [id] && keys.first?["secret"] == nil, "listed without the secret")
        #expect((try await given.call("GET", "/v1/team-keys", member).json["data"] as? [Any])?.isEmpty == true)
        let dump = try await ServerProcess.command(
            "/usr/bin/env",
            [
                "python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT * FROM team_keys').fetchall())",
                server.dataDir! + "/muse.sqlite",
            ])
        #expect(dump.stdout.contains("design") && !dump.stdout.contains(secret), "only the secret's hash is stored")

        let me = try await given.call("GET", "/v1/me", secret)
        #expect(me.json["id"] as? String == "team:design" && me.json["kind"] as? String == "team_key")
        let task = try await given.call("POST", "/v1/generations", secret, body: #"{"model":"sd15-base","prompt":"batch job"}"#)
        #expect(task.status == 202)
        let taskID = task.json["id"] as? String ?? ""
        #expect(try await given.call("GET", "/v1/generations/\(taskID)", secret).status == 200)
        #expect(try await given.call("GET", "/v1/generations/\(taskID)", admin).status == 404, "the team's task is not the admin's own")
        #expect(try await given.call("POST", "/v1/team-keys", secret, body: body).status == 403, "a team key cannot make keys")

        #expect(try await given.call("DELETE", "/v1/team-keys/\(id)", outsider).status == 404)
        #expect(try await given.call("DELETE", "/v1/team-keys/\(id)", member).status == 404)
        #expect(try await given.call("DELETE", "/v1/team-keys/\(id)", admin).status == 204)
        #expect(try await given.call("GET", "/v1/me", secret).status == 401, "revoked: refused at once")
        #expect(try await given.call("DELETE", "/v1/team-keys/\(id)", admin).status == 404)
        #expect(try await given.call("GET", "/v1/me", "msk_" + String(repeating: "0", count: 48)).status == 401)
        #expect(try await given.call("GET", "/v1/me", "msk_" + String(repeating: "a", count: 5000)).status == 401)
    }
}
