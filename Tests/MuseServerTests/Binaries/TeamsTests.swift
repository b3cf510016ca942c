import Foundation
import MuseTestSupport
import Testing

/// muse-internal's teams over the API: a `team` model is its members' only; a preset shared with
/// a team is run by its members and changed by its owner only. muse-cloud callers have no teams.
@Suite(.serialized) struct TeamsTests {
    static let catalogue = """
        models:
          - {key: sd15-base, name: Base, type: checkpoint, base_model: sd15}
          - {key: design-style, name: House style, type: lora, base_model: sd15, source: team, team: design}
        """

    static let withTeamLoRA = #"{"model":"sd15-base","prompt":"x","steps":2,"loras":[{"key":"design-style","weight":0.8}]}"#

    @Test func teamModelsAndSharedPresetsBelongToTheTeam() async throws {
        let server = try ServerProcess.serve("muse-internal")
        defer { server.stop() }
        try await server.waitUntilHealthy()
        let given = TeamKeysTests.Fixture(server: server)
        let file = server.dataDir! + "/team-models.yaml"
        try Self.catalogue.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.command("muse-internal", ["models", "import", file, "--data-dir", server.dataDir!]).status == 0)
        let ann = try await given.token("ann", ["--team", "design"])
        let bob = try await given.token("bob", ["--team", "design", "--team", "brand"])
        let cy = try await given.token("cy", ["--team", "sales"])

        // The team model.
        for member in [ann, bob] {
            #expect(try await given.call("GET", "/v1/models/design-style", member).status == 200)
            let teamModels = try await given.call("GET", "/v1/models?source=team", member).json["data"] as? [[String: Any]]
            #expect(teamModels?.map { $0["key"] as? String } == ["design-style"])
        }
        #expect(try await given.call("GET", "/v1/models/design-style", cy).status == 404)
        #expect((try await given.call("GET", "/v1/models?source=team", cy).json["data"] as? [Any])?.isEmpty == true)
        #expect(try await given.call("POST", "/v1/generations", cy, body: Self.withTeamLoRA).status == 400)
        #expect(try await given.call("POST", "/v1/generations", bob, body: Self.withTeamLoRA).status == 202)

        // The shared preset.
        let body = #"{"name":"house","params":\#(Self.withTeamLoRA),"overridable":["prompt"],"shared_with_team":"design"}"#
        #expect(try await given.call("POST", "/v1/presets", cy, body: body).status == 400, "not a team of cy's")
        let created = try await given.call("POST", "/v1/presets", ann, body: body)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json["shared_with_team"] as? String == "design" && created.json["editable"] as? Bool == true)
        let id = try #require(created.json["id"] as? String)

        let seen = try await given.call("GET", "/v1/presets/\(id)", bob)
        #expect(seen.status == 200 && seen.json["editable"] as? Bool == false)
        #expect((try await given.call("GET", "/v1/presets", bob).json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        let run = try await given.call("POST", "/v1/generations", bob, body: #"{"preset":"\#(id)","overrides":{"prompt":"bob's"}}"#)
        #expect(run.status == 202, "\(run.text)")
        #expect((run.json["preset"] as? [String: Any])?["id"] as? String == id)
        let change = #"{"name":"hijacked","params":{"model":"sd15-base","prompt":"y"}}"#
        let refused = try await given.call("PUT", "/v1/presets/\(id)", bob, body: change)
        #expect(refused.status == 403 && refused.json["code"] as? String == "permission_denied")
        #expect(try await given.call("DELETE", "/v1/presets/\(id)", bob).status == 403)

        for (method, path, payload) in [
            ("GET", "/v1/presets/\(id)", nil), ("PUT", "/v1/presets/\(id)", change), ("DELETE", "/v1/presets/\(id)", nil),
            ("POST", "/v1/generations", #"{"preset":"\#(id)"}"#),
        ] {
            #expect(try await given.call(method, path, cy, body: payload).status == 404, "\(method) \(path) by a non-member")
        }
        #expect((try await given.call("GET", "/v1/presets", cy).json["data"] as? [Any])?.isEmpty == true)
        #expect(try await given.call("GET", "/v1/presets/\(id)", ann).json["name"] as? String == "house", "unchanged by the refused calls")

        // Unshared by its owner: gone for the team at once.
        #expect(try await given.call("PUT", "/v1/presets/\(id)", ann, body: #"{"name":"house","params":\#(Self.withTeamLoRA)}"#).status == 200)
        #expect(try await given.call("GET", "/v1/presets/\(id)", bob).status == 404)
    }

    @Test func aCloudCallerHasNoTeamToShareWithOrSee() async throws {
        let pipeline = try await PipelineFixture.start(binary: .cloud)
        defer { pipeline.stop() }
        let shared = try await pipeline.call(
            "POST", "/v1/presets", body: #"{"name":"p","params":{"model":"sd15-base","prompt":"x"},"shared_with_team":"design"}"#)
        #expect(shared.status == 400 && shared.text.contains("shared_with_team"))
        let own = try await pipeline.call("POST", "/v1/presets", body: #"{"name":"p","params":{"model":"sd15-base","prompt":"x"}}"#)
        #expect(own.json["shared_with_team"] is NSNull && own.json["editable"] as? Bool == true)
    }
}
