import Foundation
import MuseTestSupport
import Testing

/// Isolation over every `/v1` route that takes an id, on both binaries: one caller owns objects of
/// every kind; every other caller (another user, another team's service key, and on muse-internal
/// a member of the owner's team) gets 404 for what is the owner's alone, and nothing of it shows in
/// their lists, feeds or webhooks. Team objects answer their members (a shared preset is runnable,
/// not changeable: 403). Community posts are published to the whole company by design: readable
/// and likeable by all, deletable by their author only.
@Suite(.serialized) struct IsolationMatrixTests {
    /// One request of the matrix: `route` is the route table's pattern it exercises.
    struct Row {
        let method: String
        let route: String
        let path: String
        var body: String? = nil
        /// A PNG upload instead of a JSON body.
        var png: [UInt8]? = nil
        /// The status each kind of caller must get.
        let expect: (Intruder.Kind) -> Int
    }

    struct Intruder {
        enum Kind { case otherUser, otherTeamKey, teamMember }
        let name: String
        let kind: Kind
        let credential: String
    }

    static let catalogue = """
        models:
          - {key: sd15-base, name: Base, type: checkpoint, base_model: sd15}
          - {key: owners-own, name: Owner's, type: lora, base_model: sd15, source: private, owner: OWNER}
          - {key: design-style, name: House style, type: lora, base_model: sd15, source: team, team: design}
        """

    static func devToken(_ user: String, _ flags: [String], dataDir: String) async throws -> String {
        let (status, output) = try await ServerProcess.command("muse-internal", ["dev-token", "--user", user, "--data-dir", dataDir] + flags)
        #expect(status == 0)
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: Binary.allCases) func everyIdTakingRouteHidesAnotherCallersObjects(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let worker = try pipeline.worker(latencyMs: 10)
        defer { worker.stop() }
        let ownersHooks = try await WebhooksAPITests.Receiver(mode: "ok")
        let intrudersHooks = try await WebhooksAPITests.Receiver(mode: "ok")
        defer {
            ownersHooks.stop()
            intrudersHooks.stop()
        }
        let dataDir = pipeline.server.dataDir!
        let isInternal = binary == .internal

        // The owner, and the intruders.
        let owner: String
        var intruders: [Intruder] = []
        if isInternal {
            owner = try await Self.devToken("ann", ["--team", "design", "--admin-team", "design"], dataDir: dataDir)
            let bob = try await Self.devToken("bob", ["--team", "sales", "--admin-team", "sales"], dataDir: dataDir)
            let salesKey = try await pipeline.call("POST", "/v1/team-keys", body: #"{"team":"sales","name":"sales batch"}"#, key: bob)
            intruders = [
                Intruder(name: "another user", kind: .otherUser, credential: bob),
                Intruder(name: "another team's key", kind: .otherTeamKey, credential: try #require(salesKey.json["secret"] as? String)),
                Intruder(
                    name: "a member of the owner's team", kind: .teamMember, credential: try await Self.devToken("dee", ["--team", "design"], dataDir: dataDir)),
            ]
        } else {
            owner = pipeline.key
            intruders = [Intruder(name: "another tenant", kind: .otherUser, credential: try await pipeline.credential("globex"))]
        }
        let ownerID = isInternal ? "ann" : "acme"
        let file = dataDir + "/isolation-models.yaml"
        try Self.catalogue.replacingOccurrences(of: "OWNER", with: ownerID).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.command(binary.rawValue, ["models", "import", file, "--data-dir", dataDir]).status == 0)

        // The owner's objects: a finished generation with its image and webhook delivery, a preset, a model.
        let generation = try #require(
            try await pipeline.call(
                "POST", "/v1/generations",
                body: #"{"model":"sd15-base","prompt":"owner's","steps":2,"width":256,"height":256,"webhook_url":"\#(ownersHooks.url)"}"#,
                key: owner
            ).json["id"] as? String)
        var task: [String: Any] = [:]
        for _ in 0..<300 where task["status"] as? String != "succeeded" {
            task = try await pipeline.call("GET", "/v1/generations/\(generation)", key: owner).json
            try await Task.sleep(for: .milliseconds(20))
        }
        let image = try #require((task["images"] as? [[String: Any]])?.first?["id"] as? String)
        var deliveries: [[String: Any]] = []
        for _ in 0..<300 where deliveries.isEmpty {
            deliveries = try await pipeline.call("GET", "/v1/webhook-deliveries?task=\(generation)", key: owner).json["data"] as? [[String: Any]] ?? []
            try await Task.sleep(for: .milliseconds(20))
        }
        let delivery = try #require(deliveries.first?["id"] as? String)
        let presetBody = #"{"name":"owner's","params":{"model":"sd15-base","prompt":"x","steps":2}}"#
        let preset = try #require(try await pipeline.call("POST", "/v1/presets", body: presetBody, key: owner).json["id"] as? String)
        let change = #"{"name":"changed","params":{"model":"sd15-base","prompt":"y"}}"#
        let dataset = try await DatasetsTests.create(pipeline, key: owner)
        let datasetImage = try #require(
            try await DatasetsTests.upload(pipeline, dataset, TinyPNG.make(width: 8, height: 8), key: owner).json["id"] as? String)
        let cropJob = try #require(
            try await pipeline.call("POST", "/v1/datasets/\(dataset)/crop", body: #"{"width":256,"height":256}"#, key: owner).json["id"] as? String)
        let training = try #require(
            try await pipeline.call("POST", "/v1/trainings", body: TrainingTests.training(dataset, steps: 50), key: owner).json["id"] as? String)
        let own: (Intruder.Kind) -> Int = { _ in 404 }

        var rows: [Row] = [
            Row(method: "GET", route: "/v1/generations/{id}", path: "/v1/generations/\(generation)", expect: own),
            Row(method: "GET", route: "/v1/generations/{id}/params", path: "/v1/generations/\(generation)/params", expect: own),
            Row(method: "GET", route: "/v1/generations/{id}/events", path: "/v1/generations/\(generation)/events", expect: own),
            Row(method: "POST", route: "/v1/generations/{id}/cancel", path: "/v1/generations/\(generation)/cancel", expect: own),
            Row(method: "GET", route: "/v1/images/{id}", path: "/v1/images/\(image)", expect: own),
            Row(method: "GET", route: "/v1/webhook-deliveries/{id}/attempts", path: "/v1/webhook-deliveries/\(delivery)/attempts", expect: own),
            Row(method: "POST", route: "/v1/webhook-deliveries/{id}/redeliver", path: "/v1/webhook-deliveries/\(delivery)/redeliver", expect: own),
            Row(method: "GET", route: "/v1/presets/{id}", path: "/v1/presets/\(preset)", expect: own),
            Row(method: "PUT", route: "/v1/presets/{id}", path: "/v1/presets/\(preset)", body: change, expect: own),
            Row(method: "DELETE", route: "/v1/presets/{id}", path: "/v1/presets/\(preset)", expect: own),
            Row(method: "POST", route: "/v1/generations", path: "/v1/generations", body: #"{"preset":"\#(preset)"}"#, expect: own),
            Row(method: "GET", route: "/v1/models/{key}", path: "/v1/models/owners-own", expect: own),
            Row(method: "GET", route: "/v1/datasets/{id}", path: "/v1/datasets/\(dataset)", expect: own),
            Row(
                method: "POST", route: "/v1/datasets/{id}/images", path: "/v1/datasets/\(dataset)/images", png: TinyPNG.make(width: 8, height: 8),
                expect: own),
            Row(method: "GET", route: "/v1/datasets/{id}/images/{image_id}", path: "/v1/datasets/\(dataset)/images/\(datasetImage)", expect: own),
            Row(
                method: "PUT", route: "/v1/datasets/{id}/images/{image_id}/caption", path: "/v1/datasets/\(dataset)/images/\(datasetImage)/caption",
                body: #"{"caption":"mine"}"#, expect: own),
            Row(method: "DELETE", route: "/v1/datasets/{id}/images/{image_id}", path: "/v1/datasets/\(dataset)/images/\(datasetImage)", expect: own),
            Row(method: "DELETE", route: "/v1/datasets/{id}", path: "/v1/datasets/\(dataset)", expect: own),
            Row(method: "POST", route: "/v1/datasets/{id}/crop", path: "/v1/datasets/\(dataset)/crop", body: #"{"width":256,"height":256}"#, expect: own),
            Row(method: "POST", route: "/v1/datasets/{id}/tag", path: "/v1/datasets/\(dataset)/tag", body: #"{"trigger_word":"x"}"#, expect: own),
            Row(method: "POST", route: "/v1/trainings", path: "/v1/trainings", body: TrainingTests.training(dataset, steps: 50), expect: own),
            Row(method: "GET", route: "/v1/jobs/{id}", path: "/v1/jobs/\(cropJob)", expect: own),
            Row(method: "POST", route: "/v1/jobs/{id}/cancel", path: "/v1/jobs/\(cropJob)/cancel", expect: own),
            Row(method: "GET", route: "/v1/trainings/{id}", path: "/v1/trainings/\(training)", expect: own),
            Row(method: "GET", route: "/v1/trainings/{id}/events", path: "/v1/trainings/\(training)/events", expect: own),
            Row(method: "GET", route: "/v1/trainings/{id}/generation-params", path: "/v1/trainings/\(training)/generation-params", expect: own),
            Row(method: "GET", route: "/v1/trainings/{id}/loss.svg", path: "/v1/trainings/\(training)/loss.svg", expect: own),
            Row(method: "POST", route: "/v1/trainings/{id}/cancel", path: "/v1/trainings/\(training)/cancel", expect: own),
        ]
        var teamIDs: [String] = []
        var sharedPreset = "", teamKey = "", post = ""
        if isInternal {
            sharedPreset = try #require(
                try await pipeline.call(
                    "POST", "/v1/presets", body: #"{"name":"shared","params":{"model":"sd15-base","prompt":"x","steps":2},"shared_with_team":"design"}"#,
                    key: owner
                ).json["id"] as? String)
            teamKey = try #require(
                try await pipeline.call("POST", "/v1/team-keys", body: #"{"team":"design","name":"design batch"}"#, key: owner).json["id"] as? String)
            post = try #require(
                try await pipeline.call(
                    "POST", "/v1/community/posts", body: #"{"generation":"\#(generation)","image":"\#(image)","title":"owner's fox"}"#, key: owner
                ).json["id"] as? String)
            teamIDs = [sharedPreset, teamKey, "design-style"]
            let team: (Int) -> (Intruder.Kind) -> Int = { member in { $0 == .teamMember ? member : 404 } }
            let company: (Int) -> (Intruder.Kind) -> Int = { status in { _ in status } }
            rows += [
                Row(method: "GET", route: "/v1/presets/{id}", path: "/v1/presets/\(sharedPreset)", expect: team(200)),
                Row(method: "PUT", route: "/v1/presets/{id}", path: "/v1/presets/\(sharedPreset)", body: change, expect: team(403)),
                Row(method: "DELETE", route: "/v1/presets/{id}", path: "/v1/presets/\(sharedPreset)", expect: team(403)),
                Row(method: "POST", route: "/v1/generations", path: "/v1/generations", body: #"{"preset":"\#(sharedPreset)"}"#, expect: team(202)),
                Row(method: "GET", route: "/v1/models/{key}", path: "/v1/models/design-style", expect: team(200)),
                // A team key may not manage keys at all (403, whatever the id); a member who is not an admin: 404.
                Row(method: "DELETE", route: "/v1/team-keys/{id}", path: "/v1/team-keys/\(teamKey)", expect: { $0 == .otherTeamKey ? 403 : 404 }),
                Row(method: "GET", route: "/v1/community/posts/{id}", path: "/v1/community/posts/\(post)", expect: company(200)),
                Row(method: "GET", route: "/v1/community/posts/{id}/image", path: "/v1/community/posts/\(post)/image", expect: company(200)),
                Row(method: "POST", route: "/v1/community/posts/{id}/like", path: "/v1/community/posts/\(post)/like", expect: company(200)),
                Row(method: "DELETE", route: "/v1/community/posts/{id}/like", path: "/v1/community/posts/\(post)/like", expect: company(200)),
                Row(method: "DELETE", route: "/v1/community/posts/{id}", path: "/v1/community/posts/\(post)", expect: company(403)),
            ]
        }

        // Every route of the binary that takes an id has a row.
        let (_, table) = try await ServerProcess.command(binary.rawValue, ["routes", "--data-dir", dataDir])
        let idRoutes = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .filter { $0.count == 3 && $0[2] == "api" && $0[1].contains("{") }.map { "\($0[0]) \($0[1])" }
        let covered = Set(rows.map { "\($0.method) \($0.route)" })
        for route in idRoutes { #expect(covered.contains(route), "\(binary): no isolation case for \(route)") }

        var cases = 0
        var failures = 0
        for intruder in intruders {
            for row in rows {
                let response =
                    if let png = row.png {
                        try await DatasetsTests.upload(pipeline, dataset, png, key: intruder.credential)
                    } else {
                        try await pipeline.call(row.method, row.path, body: row.body, key: intruder.credential)
                    }
                let expected = row.expect(intruder.kind)
                cases += 1
                if response.status != expected { failures += 1 }
                #expect(response.status == expected, "\(binary) \(intruder.name): \(row.method) \(row.path) → \(response.status), not \(expected)")
                if expected == 404 {
                    #expect(!response.text.contains("owner's") && !response.text.contains(ownerID + "\""), "a 404 names nothing of the object")
                }
            }
        }
        print(
            "isolation matrix (\(binary)): \(rows.count) requests over \(Set(rows.map(\.route)).count) id routes × \(intruders.count) callers = \(cases) cases, \(failures) unexpected"
        )

        // Lists, feeds and webhooks show nothing of the owner's own objects (team ones: members only).
        let ownersOnly = [generation, image, delivery, preset, "owners-own", dataset, datasetImage, cropJob, training]
        var lists = ["/v1/generations", "/v1/presets", "/v1/models", "/v1/webhook-deliveries", "/v1/datasets", "/v1/trainings"]
        if isInternal { lists += ["/v1/team-keys", "/v1/community/feed"] }
        for intruder in intruders {
            let mine = try await pipeline.call(
                "POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"mine","steps":2,"webhook_url":"\#(intrudersHooks.url)"}"#,
                key: intruder.credential)
            #expect(mine.status == 202)
            // The owner's task as a filter: 404 (its detail repeats the id asked for, nothing more).
            let filtered = try await pipeline.call("GET", "/v1/webhook-deliveries?task=\(generation)", key: intruder.credential)
            #expect(filtered.status == 404 && !filtered.text.contains(delivery))
            for list in lists {
                let text = try await pipeline.call("GET", list, key: intruder.credential).text
                for id in ownersOnly { #expect(!text.contains(id), "\(binary) \(intruder.name): \(list) shows \(id)") }
                for id in teamIDs where intruder.kind != .teamMember { #expect(!text.contains(id), "\(binary) \(intruder.name): \(list) shows \(id)") }
            }
        }
        for _ in 0..<300 where intrudersHooks.requests.count < intruders.count { try await Task.sleep(for: .milliseconds(20)) }
        let intrudersBodies = intrudersHooks.requests.compactMap { ($0["body"] as? String).flatMap { Data(base64Encoded: $0) } }
        #expect(intrudersBodies.count == intruders.count)
        for body in intrudersBodies {
            let text = String(decoding: body, as: UTF8.self)
            for id in ownersOnly + teamIDs { #expect(!text.contains(id), "an intruder's webhook carries \(id)") }
        }
        #expect(ownersHooks.requests.count == 1, "the owner's receiver got the owner's task only")

        // And the owner's objects are as they were.
        let kept = try await pipeline.call("GET", "/v1/presets/\(preset)", key: owner)
        #expect(kept.json["name"] as? String == "owner's" && kept.json["version"] as? Int == 1)
        #expect(try await pipeline.call("GET", "/v1/generations/\(generation)", key: owner).json["status"] as? String == "succeeded")
        #expect(try await pipeline.call("GET", "/v1/trainings/\(training)", key: owner).json["status"] as? String == "queued")
        #expect(try await pipeline.call("GET", "/v1/jobs/\(cropJob)", key: owner).json["status"] as? String == "queued")
        let keptDataset = try await pipeline.call("GET", "/v1/datasets/\(dataset)", key: owner).json
        #expect(keptDataset["image_count"] as? Int == 1 && (keptDataset["images"] as? [[String: Any]])?.first?["caption"] as? String == "")
        if isInternal {
            #expect(try await pipeline.call("GET", "/v1/presets/\(sharedPreset)", key: owner).json["version"] as? Int == 1)
            #expect((try await pipeline.call("GET", "/v1/team-keys", key: owner).json["data"] as? [[String: Any]])?.count == 1)
            let kept = try await pipeline.call("GET", "/v1/community/posts/\(post)", key: owner)
            #expect(kept.status == 200 && kept.json["like_count"] as? Int == 0)
        }
    }
}
