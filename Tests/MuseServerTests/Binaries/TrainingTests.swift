import Foundation
import MuseTestSupport
import Testing

/// Training end to end on both binaries, with the simulated worker over the real protocol:
/// dataset → crop → tag → training (SSE, loss curve) → the LoRA in the catalogue → a generation
/// with it; bad requests; cancel; a worker or the server killed in the middle of a training.
@Suite(.serialized) struct TrainingTests {
    static let trainer = ["--abilities", "txt2img,img2img,crop,tag,train", "--train-step-ms", "5"]

    /// A server, a worker that trains, and acme's dataset of `images` PNGs.
    static func start(_ binary: Binary, images: Int = 3, environment: [String: String] = [:]) async throws -> (PipelineFixture, ServerProcess, String) {
        let pipeline = try await PipelineFixture.start(binary: binary, environment: environment)
        let worker = try pipeline.worker(latencyMs: 10, id: "trainer-1", extra: trainer)
        let dataset = try await DatasetsTests.create(pipeline)
        for i in 0..<images {
            let uploaded = try await DatasetsTests.upload(pipeline, dataset, TinyPNG.make(width: 64 + 8 * i, height: 48))
            #expect(uploaded.status == 201)
        }
        return (pipeline, worker, dataset)
    }

    static func poll(_ pipeline: PipelineFixture, _ path: String, seconds: Int = 30, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            last = try await pipeline.call("GET", path).json
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("\(path) never got there: \(last)")
        return last
    }

    static func training(_ dataset: String, steps: Int, every: Int = 20, extra: String = "") -> String {
        #"{"base_model":"sd15-base","dataset":"\#(dataset)","output_name":"My Cat","trigger_word":"sks cat","params":{"steps":\#(steps),"checkpoint_every":\#(every),"rank":4}\#(extra)}"#
    }

    static func isFinal(_ job: [String: Any]) -> Bool { ["succeeded", "failed", "canceled"].contains(job["status"] as? String) }

    @Test(arguments: Binary.allCases) func aDatasetIsCroppedTaggedAndTrainedIntoALoRAThatGenerates(_ binary: Binary) async throws {
        let (pipeline, worker, dataset) = try await Self.start(binary)
        defer { worker.stop(); pipeline.stop() }

        let crop = try await pipeline.call("POST", "/v1/datasets/\(dataset)/crop", body: #"{"width":256,"height":256,"mode":"center"}"#)
        #expect(crop.status == 202 && crop.headers["location"] == "/v1/jobs/\(crop.json["id"] as? String ?? "")", "\(crop.text)")
        let cropped = try await Self.poll(pipeline, "/v1/jobs/\(crop.json["id"] as? String ?? "")", until: Self.isFinal)
        #expect(cropped["status"] as? String == "succeeded" && cropped["kind"] as? String == "crop", "\(cropped)")
        let images = try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["images"] as? [[String: Any]] ?? []
        #expect(images.count == 3 && images.allSatisfy { $0["width"] as? Int == 256 && $0["height"] as? Int == 256 && $0["version"] as? Int == 2 })

        let tag = try await pipeline.call("POST", "/v1/datasets/\(dataset)/tag", body: #"{"trigger_word":"sks cat"}"#)
        #expect(tag.status == 202)
        let tagged = try await Self.poll(pipeline, "/v1/jobs/\(tag.json["id"] as? String ?? "")", until: Self.isFinal)
        #expect(tagged["status"] as? String == "succeeded")
        let captions = (try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["images"] as? [[String: Any]] ?? []).map {
            $0["caption"] as? String ?? ""
        }
        #expect(captions.count == 3 && captions.allSatisfy { $0.hasPrefix("sks cat") }, "\(captions)")

        let submitted = try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 60))
        #expect(submitted.status == 202, "\(submitted.text)")
        let id = try #require(submitted.json["id"] as? String)
        #expect(id.hasPrefix("trn_") && submitted.json["status"] as? String == "queued")
        #expect((submitted.json["params"] as? [String: Any])?["learning_rate"] as? Double == 0.0001, "the form's defaults are filled in")

        let stream = try await EventStreamReader(
            port: pipeline.server.port, path: "/v1/trainings/\(id)/events", headers: ["Authorization": "Bearer \(pipeline.key)"])
        #expect(stream.status == 200)
        let events = try await stream.rest()
        let steps = events.compactMap { $0.json["step"] as? Int }
        #expect(events.last?.json["status"] as? String == "succeeded", "\(events.map(\.data))")
        #expect(steps.count >= 10 && steps == steps.sorted() && steps.last == 60, "\(steps)")
        #expect(events.contains { $0.json["loss"] is Double })

        let done = try await pipeline.call("GET", "/v1/trainings/\(id)").json
        let lora = try #require(done["output_model_key"] as? String)
        #expect(
            done["status"] as? String == "succeeded" && done["step"] as? Int == 60 && done["total_steps"] as? Int == 60 && done["checkpoint_step"] as? Int == 40
        )
        let model = try await pipeline.call("GET", "/v1/models/\(lora)").json
        #expect(model["type"] as? String == "lora" && model["source"] as? String == "private" && model["base_model"] as? String == "sd15", "\(model)")
        #expect(try await pipeline.call("GET", "/v1/models/\(lora)", key: try await pipeline.credential("bob")).status == 404, "private to its owner")

        let params = try await pipeline.call("GET", "/v1/trainings/\(id)/generation-params")
        #expect(params.status == 200 && params.text.contains(lora), "\(params.text)")
        let generation = try await pipeline.submit(params.text)
        let (task, _) = try await pipeline.poll(generation) { $0["status"] as? String == "succeeded" }
        #expect(((task["params"] as? [String: Any])?["loras"] as? [[String: Any]])?.first?["key"] as? String == lora)

        let svg = try await pipeline.call("GET", "/v1/trainings/\(id)/loss.svg")
        #expect(svg.status == 200 && svg.headers["content-type"]?.hasPrefix("image/svg+xml") == true && svg.text.contains("<polyline"))

        // The artifact is a safetensors file with LoRA tensors, served to workers by the training's id.
        let token = try String(contentsOfFile: pipeline.server.dataDir! + "/worker-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let artifact = try await RawHTTPClient(port: pipeline.server.port).request(
            "GET", "/internal/v1/trainings/\(id)/artifact", headers: ["Authorization": "Bearer \(token)"])
        #expect(artifact.status == 200 && artifact.body.count > 8)
        let headerLength = artifact.body.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(artifact.body[8..<(8 + headerLength)])) as? [String: Any]
        #expect(header?.keys.contains { $0.hasSuffix(".lora_down.weight") } == true)

        // Workers fetch the LoRA a generation names by its key, and an init_image by its id (worker token only).
        let port = pipeline.server.port
        @Sendable func get(_ path: String, _ headers: [String: String] = [:]) async throws -> RawResponse {
            try await RawHTTPClient(port: port).request("GET", path, headers: headers)
        }
        let auth = ["Authorization": "Bearer \(token)"]
        let byKey = try await get("/internal/v1/loras/\(lora)", auth)
        #expect(byKey.status == 200 && byKey.body == artifact.body)
        #expect(try await get("/internal/v1/loras/\(lora)", ["Authorization": "Bearer \(pipeline.key)"]).status == 401)
        #expect(try await get("/internal/v1/loras/sd15-base", auth).status == 404, "a LoRA the server holds no file of")
        #expect(try await get("/internal/v1/loras/..%2F..%2Fworker-token", auth).status == 400)
        let imageID = try #require((task["images"] as? [[String: Any]])?.first?["id"] as? String)
        let image = try await get("/internal/v1/images/\(imageID)", auth)
        #expect(image.status == 200 && image.body.starts(with: [0x89, 0x50, 0x4E, 0x47]) && image.headers["content-type"] == "image/png")
        #expect(try await get("/internal/v1/images/\(imageID)").status == 401)
        #expect(try await get("/internal/v1/images/img_0000000000000000000000000z", auth).status == 404)
        #expect(try await get("/internal/v1/images/..%2Fimg", auth).status == 400)
        #expect((try await pipeline.call("GET", "/v1/trainings").json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
    }

    @Test(arguments: Binary.allCases) func badTrainingsAreRefusedNamingTheField(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let dataset = try await DatasetsTests.create(pipeline)
        #expect(try await DatasetsTests.upload(pipeline, dataset, TinyPNG.make(width: 8, height: 8)).status == 201)
        let empty = try await DatasetsTests.create(pipeline)
        let cases: [(String, Int, String)] = [
            (Self.training(dataset, steps: 5), 400, "params.steps"),
            (Self.training(dataset, steps: 50).replacingOccurrences(of: #""rank":4"#, with: #""rank":4,"epochs":2"#), 400, "params.epochs"),
            (Self.training(dataset, steps: 50).replacingOccurrences(of: "sd15-base", with: "sd15-nope"), 400, "base_model"),
            (Self.training(dataset, steps: 50, extra: #","resources":"private""#), 400, "resources"),
            (Self.training(dataset, steps: 50, extra: #","resources":"gpu""#), 400, "resources"),
            (Self.training(dataset, steps: 50, extra: #","webhook_url":"ftp://example.com/h""#), 400, "webhook_url"),
            (Self.training(dataset, steps: 50, extra: #","webhook_url":"http://169.254.169.254/latest""#), 400, "webhook_url"),
            (Self.training(dataset, steps: 50).replacingOccurrences(of: "My Cat", with: #"a\u202eb"#), 400, "output_name"),
            (Self.training("ds_01jdxxxxxxxxxxxxxxxxxxxxxx", steps: 50), 404, "not_found"),
            (Self.training(empty, steps: 50), 409, "no images"),
            (Self.training(dataset, steps: 50).replacingOccurrences(of: #""rank":4"#, with: #""rank":"4""#), 400, "params.rank"),
        ]
        for (body, status, mention) in cases {
            let answer = try await pipeline.call("POST", "/v1/trainings", body: body)
            #expect(answer.status == status && answer.text.contains(mention), "\(body): \(answer.status) \(answer.text)")
        }
        for (path, body) in [
            ("crop", #"{"width":100,"height":256}"#), ("crop", #"{"width":256,"height":256,"mode":"edge"}"#), ("tag", #"{"trigger_word":""}"#),
        ] {
            #expect(try await pipeline.call("POST", "/v1/datasets/\(dataset)/\(path)", body: body).status == 400, "\(body)")
        }
        // Another caller's dataset is not there for a training either.
        let bob = try await pipeline.credential("bob")
        #expect(try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 50), key: bob).status == 404)
        #expect(try await pipeline.call("POST", "/v1/datasets/\(dataset)/crop", body: #"{"width":256,"height":256}"#, key: bob).status == 404)
        #expect((try await pipeline.call("GET", "/v1/trainings").json["data"] as? [Any])?.isEmpty == true, "nothing was queued")
    }

    @Test func aCanceledTrainingStopsOnItsWorkerAndFreesTheSlot() async throws {
        let (pipeline, worker, dataset) = try await Self.start(.cloud, images: 1)
        defer { worker.stop(); pipeline.stop() }
        let long = try #require(
            try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 20000, every: 20000)).json["id"] as? String)
        _ = try await Self.poll(pipeline, "/v1/trainings/\(long)") { ($0["step"] as? Int ?? 0) > 0 }
        let canceled = try await pipeline.call("POST", "/v1/trainings/\(long)/cancel")
        #expect(canceled.status == 200 && canceled.json["status"] as? String == "canceled")
        #expect(try await pipeline.call("POST", "/v1/trainings/\(long)/cancel").json["status"] as? String == "canceled", "cancel is idempotent")
        // The worker's one training slot is free again: the next training runs to its end.
        let next = try #require(try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 30)).json["id"] as? String)
        let done = try await Self.poll(pipeline, "/v1/trainings/\(next)", until: Self.isFinal)
        #expect(done["status"] as? String == "succeeded")
        let stopped = try await pipeline.call("GET", "/v1/trainings/\(long)").json
        #expect(stopped["status"] as? String == "canceled" && stopped["output_model_key"] is NSNull, "a late result changes nothing")
    }

    @Test func aPrivateTrainingRunsOnlyOnAWorkerReservedForItsOwner() async throws {
        let (pipeline, reserved, dataset) = try await Self.start(.cloud, images: 1, environment: ["MUSE_TRAINING_RESERVED_WORKERS": "trainer-1=acme"])
        defer { reserved.stop(); pipeline.stop() }
        // Only the reserved worker is up: a shared training waits, a private one runs.
        let shared = try #require(try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 20)).json["id"] as? String)
        let mine = try #require(
            try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 20, extra: #","resources":"private""#)).json["id"] as? String)
        #expect(try await Self.poll(pipeline, "/v1/trainings/\(mine)", until: Self.isFinal)["status"] as? String == "succeeded")
        #expect(try await pipeline.call("GET", "/v1/trainings/\(shared)").json["status"] as? String == "queued")
        // Another tenant may not ask for private workers; a shared worker then takes the shared training.
        let globex = try await pipeline.credential("globex")
        let theirs = try await DatasetsTests.create(pipeline, key: globex)
        _ = try await DatasetsTests.upload(pipeline, theirs, TinyPNG.make(width: 8, height: 8), key: globex)
        let refused = try await pipeline.call("POST", "/v1/trainings", body: Self.training(theirs, steps: 20, extra: #","resources":"private""#), key: globex)
        #expect(refused.status == 400 && refused.text.contains("resources"))
        let common = try pipeline.worker(latencyMs: 10, id: "trainer-common", extra: Self.trainer)
        defer { common.stop() }
        #expect(try await Self.poll(pipeline, "/v1/trainings/\(shared)", until: Self.isFinal)["status"] as? String == "succeeded")
    }

    @Test func queuedJobsAreCanceledWithoutAWorker() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let dataset = try await DatasetsTests.create(pipeline)
        _ = try await DatasetsTests.upload(pipeline, dataset, TinyPNG.make(width: 8, height: 8))
        let crop = try #require(try await pipeline.call("POST", "/v1/datasets/\(dataset)/crop", body: #"{"width":64,"height":64}"#).json["id"] as? String)
        let training = try #require(try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 20)).json["id"] as? String)
        #expect(try await pipeline.call("POST", "/v1/jobs/\(crop)/cancel").json["status"] as? String == "canceled")
        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(dataset)").status == 409, "a queued job uses the dataset")
        #expect(try await pipeline.call("POST", "/v1/trainings/\(training)/cancel").json["status"] as? String == "canceled")
        #expect(try await pipeline.call("POST", "/v1/jobs/\(training)/cancel").status == 404, "a training is not a /v1/jobs job")
        #expect(try await pipeline.call("GET", "/v1/trainings/\(training)/generation-params").status == 409)
        let stream = try await EventStreamReader(
            port: pipeline.server.port, path: "/v1/trainings/\(training)/events", headers: ["Authorization": "Bearer \(pipeline.key)"])
        #expect(try await stream.rest().map { $0.json["status"] as? String } == ["queued", "canceled"], "a final training's stream replays and ends")
        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(dataset)").status == 204, "once its jobs are over")
    }

    @Test func aKilledWorkersTrainingResumesFromItsCheckpointOnTheNextWorker() async throws {
        let (pipeline, worker, dataset) = try await Self.start(.cloud, images: 1)
        defer { pipeline.stop() }
        let id = try #require(
            try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 600, every: 100)).json["id"] as? String)
        _ = try await Self.poll(pipeline, "/v1/trainings/\(id)") { $0["checkpoint_step"] as? Int ?? 0 >= 100 }
        worker.signal(SIGKILL)
        _ = await worker.waitForExit()
        let second = try pipeline.worker(latencyMs: 10, id: "trainer-2", extra: Self.trainer)
        defer { second.stop() }
        let done = try await Self.poll(pipeline, "/v1/trainings/\(id)", seconds: 60, until: Self.isFinal)
        #expect(done["status"] as? String == "succeeded" && done["attempts"] as? Int == 2, "\(done)")
        let files = try FileManager.default.contentsOfDirectory(atPath: pipeline.server.dataDir! + "/training").filter { $0.hasPrefix("lora-") }
        #expect(files == ["lora-\(id).safetensors"], "one artifact")
    }

    @Test func aTrainingFinishesAfterTheServerIsKilledAndStartedAgain() async throws {
        let (pipeline, worker, dataset) = try await Self.start(.cloud, images: 1)
        defer { worker.stop() }
        let id = try #require(try await pipeline.call("POST", "/v1/trainings", body: Self.training(dataset, steps: 400, every: 100)).json["id"] as? String)
        _ = try await Self.poll(pipeline, "/v1/trainings/\(id)") { ($0["step"] as? Int ?? 0) >= 50 }
        pipeline.server.signal(SIGKILL)
        _ = await pipeline.server.waitForExit()
        let restarted = try ServerProcess(
            "muse-cloud", arguments: ["serve", "--port", String(pipeline.server.port), "--data-dir", pipeline.server.dataDir!], port: pipeline.server.port)
        defer { restarted.stop() }
        try await restarted.waitUntilHealthy()
        let again = PipelineFixture(server: restarted, binary: .cloud, key: pipeline.key)
        let done = try await Self.poll(again, "/v1/trainings/\(id)", seconds: 60, until: Self.isFinal)
        #expect(done["status"] as? String == "succeeded", "\(done)")
        let files = try FileManager.default.contentsOfDirectory(atPath: pipeline.server.dataDir! + "/training").filter { $0.hasPrefix("lora-") }
        #expect(files == ["lora-\(id).safetensors"], "one artifact")
    }
}
