import Foundation
import MuseHTTP
import MuseTestSupport
import NIOCore
import Synchronization
import Testing

/// A worker is a peer, not trusted: a result must carry exactly the job's images, each a PNG of
/// the job's size under the cap, or it is a 400 and the task does not change.
@Suite(.serialized) struct WorkerResultCheckTests {
    /// A worker that takes every job and remembers its attempt ids; the test plays its results.
    final class Inbox: Sendable {
        let attempts = Mutex<[String]>([])

        func router() -> Router {
            let router = Router()
            router.group("/v1", name: "server").post("/v1/jobs") { [self] request, _ in
                let job = try JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) as? [String: Any]
                if let id = job?["attempt_id"] as? String { attempts.withLock { $0.append(id) } }
                return .bytes(ByteBuffer(string: #"{"accepted":true}"#), contentType: "application/json", status: .accepted)
            }
            // Asked by the server's polling fallback: every job is still running.
            router.group("/v1", name: "server").get("/v1/jobs/{attempt_id}") { _, _ in
                .bytes(ByteBuffer(string: #"{"status":"running","progress":0.5}"#), contentType: "application/json")
            }
            return router
        }

        func next() async throws -> String {
            for _ in 0..<500 {
                if let id = attempts.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return id }
                try await Task.sleep(for: .milliseconds(10))
            }
            struct NoJob: Error {}
            throw NoJob()
        }
    }

    static func image(_ png: [UInt8], width: Int = 256, height: Int = 256) -> String {
        #"{"png_base64":"\#(Data(png).base64EncodedString())","seed":1,"width":\#(width),"height":\#(height)}"#
    }

    @Test func aResultThatDoesNotAnswerItsJobIs400AndChangesNothing() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let inbox = Inbox()
        try await withTestServer(router: inbox.router()) { _, workerPort in
            let token = try String(contentsOfFile: pipeline.server.dataDir! + "/worker-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            func worker(_ method: String, _ path: String, _ body: String) async throws -> RawResponse {
                // A long wait: the over-the-cap result is 85 MiB of JSON for a debug build to parse.
                try await RawHTTPClient(port: pipeline.server.port, receiveTimeout: 120).request(
                    method, path, headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body
                )
            }
            let registered = try await worker(
                "POST", "/internal/v1/workers",
                #"{"worker_id":"peer-1","url":"http://127.0.0.1:\#(workerPort)","abilities":["txt2img"],"models_loaded":["sd15-base"]}"#
            )
            #expect(registered.status == 200)
            // Heart-beats as a worker does, so the slow over-the-cap case does not make it "lost".
            let heartbeats = Task {
                while !Task.isCancelled {
                    _ = try? await worker("POST", "/internal/v1/workers/peer-1/heartbeat", #"{"busy":0,"running":[],"queue":0,"models_loaded":["sd15-base"]}"#)
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            defer { heartbeats.cancel() }
            let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"two of them","steps":2,"width":256,"height":256,"num_images":2}"#)
            let attempt = try await inbox.next()
            let good = TinyPNG.make(width: 256, height: 256)
            let bad: [(String, String)] = [
                ("zero images", "[]"),
                ("one image of two", "[\(Self.image(good))]"),
                ("one too many", "[\(Self.image(good)),\(Self.image(good)),\(Self.image(good))]"),
                ("not a PNG", "[\(Self.image(good)),\(Self.image(Array("GIF89a, not a PNG at all, no....".utf8)))]"),
                ("IHDR of another size", "[\(Self.image(good)),\(Self.image(TinyPNG.make(width: 128, height: 256)))]"),
                ("declared size lies", "[\(Self.image(good)),\(Self.image(TinyPNG.make(width: 128, height: 128), width: 128, height: 128))]"),
                ("over the cap", "[\(Self.image(good)),\(Self.image(good + [UInt8](repeating: 0, count: 64 << 20)))]"),
            ]
            for (name, images) in bad {
                let started = ContinuousClock.now
                defer { print("result check '\(name)': answered in \(ContinuousClock.now - started)") }
                let response = try await worker("POST", "/internal/v1/attempts/\(attempt)/result", #"{"status":"succeeded","images":\#(images)}"#)
                #expect(response.status == 400, "\(name): \(response.status) \(response.text.prefix(200))")
                #expect(response.json["code"] as? String == "invalid_argument", "\(name)")
                let task = try await pipeline.call("GET", "/v1/generations/\(id)").json
                #expect(["dispatched", "running"].contains(task["status"] as? String ?? ""), "\(name): task is \(task)")
            }
            let longCode = String(repeating: "c", count: 65)
            let longMessage = String(repeating: "m", count: 2001)
            for body in [
                #"{"status":"failed","error":{"code":"\#(longCode)","message":"x"}}"#, #"{"status":"failed","error":{"code":"Bad Code","message":"x"}}"#,
                #"{"status":"failed","error":{"code":"internal","message":"\#(longMessage)"}}"#,
            ] {
                let response = try await worker("POST", "/internal/v1/attempts/\(attempt)/result", body)
                #expect(response.status == 400, "\(body.prefix(80))")
            }
            let accepted = try await worker(
                "POST", "/internal/v1/attempts/\(attempt)/result", #"{"status":"succeeded","images":[\#(Self.image(good)),\#(Self.image(good))]}"#)
            #expect(accepted.status == 200, "\(accepted.text)")
            let task = try await pipeline.call("GET", "/v1/generations/\(id)").json
            #expect(task["status"] as? String == "succeeded")
            let urls = (task["images"] as? [[String: Any]])?.compactMap { $0["url"] as? String } ?? []
            #expect(urls.count == 2)
            for url in urls {
                let image = try await pipeline.call("GET", url)
                #expect(image.body == good)
                #expect(image.headers["x-content-type-options"] == "nosniff")
            }
            // Only the two kept images are on disk: the refused results left nothing behind.
            let files = try FileManager.default.contentsOfDirectory(atPath: pipeline.server.dataDir! + "/images")
            #expect(files.filter { $0.hasSuffix(".png") }.count == 2, "\(files)")
        }
    }
}
