import Foundation
import MuseTestSupport
import Testing

/// `/v1/presets` and generations from presets, as a client calls them over a real socket.
@Suite(.serialized) struct PresetsAPITests {
    func create(_ pipeline: PipelineFixture, _ body: String) async throws -> [String: Any] {
        let response = try await pipeline.call("POST", "/v1/presets", body: body)
        #expect(response.status == 201, "\(response.text)")
        return response.json
    }

    func field(_ response: RawResponse) -> String? {
        (response.json["errors"] as? [[String: Any]])?.first?["field"] as? String
    }

    @Test(arguments: Binary.allCases) func versionsStayRunnableAndTasksRecordTheVersion(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let v1 = try await create(
            pipeline,
            #"{"name":"fox","description":"foxes","params":{"model":"sd15-base","prompt":"a red fox","steps":12},"overridable":["prompt","seed"]}"#)
        let id = v1["id"] as? String ?? ""
        #expect(id.hasPrefix("pre_") && v1["version"] as? Int == 1)
        let v2 = try await pipeline.call(
            "PUT", "/v1/presets/\(id)", body: #"{"name":"fox","params":{"model":"sd15-base","prompt":"a blue fox","steps":30},"overridable":["prompt"]}"#)
        #expect(v2.status == 200 && v2.json["version"] as? Int == 2)

        // Latest by default, an older version on request.
        let latest = try await pipeline.call("POST", "/v1/generations", body: #"{"preset":"\#(id)","overrides":{"prompt":"a fox at night"}}"#)
        #expect(latest.status == 202, "\(latest.text)")
        #expect((latest.json["params"] as? [String: Any])?["steps"] as? Int == 30)
        #expect((latest.json["params"] as? [String: Any])?["prompt"] as? String == "a fox at night")
        #expect((latest.json["preset"] as? [String: Any])?["version"] as? Int == 2)
        let old = try await pipeline.call("POST", "/v1/generations", body: #"{"preset":"\#(id)","preset_version":1,"overrides":{"seed":7}}"#)
        #expect(old.status == 202, "\(old.text)")
        let oldParams = old.json["params"] as? [String: Any]
        #expect(oldParams?["prompt"] as? String == "a red fox" && oldParams?["steps"] as? Int == 12 && oldParams?["seed"] as? Int == 7)
        #expect((old.json["preset"] as? [String: Any])?["id"] as? String == id)
        #expect(
            try await pipeline.call("GET", "/v1/presets/\(id)?version=1").json["params"].flatMap { ($0 as? [String: Any])?["prompt"] as? String } == "a red fox"
        )

        // Version 2 only lets the prompt change; a merged result is validated like a full request.
        let refused = try await pipeline.call("POST", "/v1/generations", body: #"{"preset":"\#(id)","overrides":{"seed":1}}"#)
        #expect(refused.status == 400 && field(refused) == "overrides.seed")
        let tooLong = try await pipeline.call(
            "POST", "/v1/generations", body: #"{"preset":"\#(id)","overrides":{"prompt":"\#(String(repeating: "x", count: 3000))"}}"#)
        #expect(tooLong.status == 400 && field(tooLong) == "prompt")

        // Deleting the preset leaves its tasks readable, with the reference.
        #expect(try await pipeline.call("DELETE", "/v1/presets/\(id)").status == 204)
        #expect(try await pipeline.call("GET", "/v1/presets/\(id)").status == 404)
        #expect(try await pipeline.call("POST", "/v1/generations", body: #"{"preset":"\#(id)"}"#).status == 404)
        let task = try await pipeline.call("GET", "/v1/generations/\(old.json["id"] as? String ?? "")")
        #expect(task.status == 200 && (task.json["preset"] as? [String: Any])?["version"] as? Int == 1)
    }

    @Test(arguments: Binary.allCases) func aPresetSavedFromAGenerationRunsItAgain(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let gen = try await pipeline.call(
            "POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"lighthouse","seed":99,"loras":[{"key":"lora-fox","weight":0.5}]}"#)
        let genID = gen.json["id"] as? String ?? ""
        let backfill = try await pipeline.call("GET", "/v1/generations/\(genID)/params")
        #expect(backfill.status == 200)
        #expect(backfill.json["model_keys"] as? [String] == ["sd15-base", "lora-fox"])
        #expect((backfill.json["params"] as? [String: Any])?["seed"] as? Int == 99)

        let preset = try await create(pipeline, #"{"name":"lighthouse","from_generation":"\#(genID)"}"#)
        #expect((preset["params"] as? [String: Any])?["prompt"] as? String == "lighthouse")
        let rerun = try await pipeline.call("POST", "/v1/generations", body: #"{"preset":"\#(preset["id"] as? String ?? "")"}"#)
        #expect(rerun.status == 202)
        #expect((rerun.json["params"] as? [String: Any])?["seed"] as? Int == 99)
    }

    @Test(arguments: Binary.allCases) func badPresetsNameTheFieldAndOtherTenantsSeeNothing(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let cases: [(String, String)] = [
            (#"{"name":"x","params":{"model":"sd15-base","prompt":"p","steps":9999}}"#, "params.steps"),
            (#"{"name":"x","params":{"model":"nope","prompt":"p"}}"#, "params.model"),
            (#"{"name":"x","params":{"model":"sd15-base","prompt":"p"},"overridable":["colour"]}"#, "overridable[0]"),
            (#"{"name":"","params":{"model":"sd15-base","prompt":"p"}}"#, "name"),
            (#"{"name":"x"}"#, "params"),
            (#"{"name":"x","from_generation":"gen_01m868kkdp2nam2gfyvsywt43r"}"#, "from_generation"),
            (#"{"name":"x","params":{"model":"sd15-base","prompt":"p"},"colour":1}"#, "colour"),
        ]
        for (body, name) in cases {
            let response = try await pipeline.call("POST", "/v1/presets", body: body)
            #expect(response.status == 400 && field(response) == name, "\(body) → \(response.status) \(response.text)")
        }
        let mine = try await create(pipeline, #"{"name":"mine","params":{"model":"sd15-base","prompt":"p"}}"#)
        let id = mine["id"] as? String ?? ""
        let other = try await pipeline.credential("globex")
        #expect(try await pipeline.call("GET", "/v1/presets/\(id)", key: other).status == 404)
        #expect(
            try await pipeline.call("PUT", "/v1/presets/\(id)", body: #"{"name":"stolen","params":{"model":"sd15-base","prompt":"p"}}"#, key: other).status
                == 404)
        #expect(try await pipeline.call("DELETE", "/v1/presets/\(id)", key: other).status == 404)
        #expect(try await pipeline.call("POST", "/v1/generations", body: #"{"preset":"\#(id)"}"#, key: other).status == 404)
        #expect((try await pipeline.call("GET", "/v1/presets", key: other).json["data"] as? [Any])?.isEmpty == true)
        #expect(try await pipeline.call("GET", "/v1/presets/\(id)?version=0").status == 400)
        #expect(try await pipeline.call("GET", "/v1/presets/\(id)?version=2").status == 404)
    }

    @Test(arguments: Binary.allCases) func theListPagesNewestFirst(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        var ids: [String] = []
        for i in 0..<5 {
            ids.append(try await create(pipeline, #"{"name":"p\#(i)","params":{"model":"sd15-base","prompt":"p"}}"#)["id"] as? String ?? "")
            try await Task.sleep(for: .milliseconds(2))
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await pipeline.call("GET", "/v1/presets?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")).json
            seen += (page["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        #expect(seen == ids.reversed())
    }
}
