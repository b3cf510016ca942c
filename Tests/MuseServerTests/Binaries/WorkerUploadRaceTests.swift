import Foundation
import MuseHTTP
import MuseInfra
import MuseTestSupport
import NIOCore
import Synchronization
import Testing

/// A worker's uploads that finish after their attempt stopped being current (its result came in,
/// or the job was canceled) store nothing: the test is the worker, over the real protocol.
@Suite(.serialized) struct WorkerUploadRaceTests {
    /// The jobs pushed to this test's worker: attempt id by kind.
    final class Pushed: Sendable {
        let attempts = Mutex<[String: String]>([:])
    }

    static func worker(_ pushed: Pushed) -> Router {
        let router = Router()
        let routes = router.group("", name: "public")
        routes.post("/v1/jobs", maxBodyBytes: 1 << 20) { request, _ in
            let job = try JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) as? [String: Any] ?? [:]
            if let kind = job["kind"] as? String, let attempt = job["attempt_id"] as? String { pushed.attempts.withLock { $0[kind] = attempt } }
            return .bytes(ByteBuffer(string: "{}"), contentType: "application/json", status: .accepted)
        }
        routes.get("/v1/jobs/{id}") { _, _ in .bytes(ByteBuffer(string: #"{"status":"running"}"#), contentType: "application/json") }
        routes.post("/v1/jobs/{id}/cancel") { _, _ in .bytes(ByteBuffer(string: "{}"), contentType: "application/json") }
        return router
    }

    static func attempt(_ pushed: Pushed, _ kind: String) async throws -> String {
        for _ in 0..<400 {
            if let attempt = pushed.attempts.withLock({ $0[kind] }) { return attempt }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("no \(kind) job was pushed"); return ""
    }

    /// Starts a PUT with half its body sent, as a slow upload is.
    static func startUpload(_ pipeline: PipelineFixture, _ path: String, _ body: [UInt8], type: String) async throws -> RawHTTPClient {
        let client = try await RawHTTPClient(port: pipeline.server.port)
        let head =
            "PUT \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(try WorkerPeerTests.token(pipeline))\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n"
        try await client.send(Array(head.utf8) + body.prefix(body.count / 2))
        try await Task.sleep(for: .milliseconds(300))
        return client
    }

    @Test func aLoRAUploadThatEndsAfterTheResultAndACropAfterTheCancelStoreNothing() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let pushed = Pushed()
        try await withTestServer(router: Self.worker(pushed)) { _, port in
            let registered = try await WorkerPeerTests.asWorker(
                pipeline, "POST", "/internal/v1/workers",
                #"{"worker_id":"racer","url":"http://127.0.0.1:\#(port)","abilities":["crop","train"],"train_slots":2}"#)
            #expect(registered.status == 200, "\(registered.text)")
            let beat = Task {
                while !Task.isCancelled {
                    _ = try? await WorkerPeerTests.asWorker(
                        pipeline, "POST", "/internal/v1/workers/racer/heartbeat", #"{"busy":0,"running":[],"models_loaded":[],"queue":0}"#)
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            defer { beat.cancel() }
            let dataset = try await DatasetsTests.create(pipeline)
            #expect(try await DatasetsTests.upload(pipeline, dataset, TinyPNG.make(width: 64, height: 48)).status == 201)

            // A training: the LoRA X is uploaded and reported; a slower upload of Y ends after the result.
            let training = try #require(
                try await pipeline.call("POST", "/v1/trainings", body: TrainingTests.training(dataset, steps: 50)).json["id"] as? String)
            let trainAttempt = try await Self.attempt(pushed, "train")
            let base = "/internal/v1/job-attempts/\(trainAttempt)"
            let x = [UInt8](repeating: 0x58, count: 300_000)
            let y = [UInt8](repeating: 0x59, count: 300_000)
            let stored = try await RawHTTPClient(port: pipeline.server.port).request(
                "PUT", base + "/artifact", headers: ["Authorization": "Bearer \(try WorkerPeerTests.token(pipeline))"], bytes: x)
            #expect(stored.status == 200, "\(stored.text)")
            let slow = try await Self.startUpload(pipeline, base + "/artifact", y, type: "application/octet-stream")
            let sha = Digest.hex(Digest.sha256(x))
            let result = try await WorkerPeerTests.asWorker(
                pipeline, "POST", base + "/result", #"{"status":"succeeded","artifact":{"sha256":"\#(sha)","size":\#(x.count),"upload":"done"}}"#)
            #expect(result.status == 200, "\(result.text)")
            #expect(try await pipeline.call("GET", "/v1/trainings/\(training)").json["status"] as? String == "succeeded")
            try await slow.send(Array(y.suffix(y.count - y.count / 2)))
            #expect(try await slow.readResponse().status == 404, "the attempt finished while the upload arrived")
            let served = try await WorkerPeerTests.asWorker(pipeline, "GET", "/internal/v1/trainings/\(training)/artifact")
            // Compared as a flag: a failed comparison of 300 KB arrays would make the test library diff them for minutes.
            #expect(served.body.count == x.count && served.body.allSatisfy { $0 == 0x58 }, "the published LoRA is the one whose digest was checked")

            // A crop: an image upload that ends after the job was canceled changes nothing.
            let crop = try #require(
                try await pipeline.call("POST", "/v1/datasets/\(dataset)/crop", body: #"{"width":64,"height":64}"#).json["id"] as? String)
            let cropAttempt = try await Self.attempt(pushed, "crop")
            let image = try #require((try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["images"] as? [[String: Any]])?.first?["id"] as? String)
            let cropped = TinyPNG.make(width: 64, height: 64)
            let late = try await Self.startUpload(pipeline, "/internal/v1/job-attempts/\(cropAttempt)/images/\(image)", cropped, type: "image/png")
            #expect(try await pipeline.call("POST", "/v1/jobs/\(crop)/cancel").json["status"] as? String == "canceled")
            try await late.send(Array(cropped.suffix(cropped.count - cropped.count / 2)))
            #expect(try await late.readResponse().status == 404, "the job was canceled while the crop arrived")
            let after = try #require((try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["images"] as? [[String: Any]])?.first)
            #expect(after["version"] as? Int == 1 && after["width"] as? Int == 64 && after["height"] as? Int == 48)
        }
    }
}
