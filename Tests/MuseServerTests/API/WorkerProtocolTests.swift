import Foundation
import MuseTestSupport
import Testing

/// The worker protocol's less common paths with real processes: batches, lost callbacks
/// recovered by polling, deadlines (leases) that run out, start-time estimates.
@Suite(.serialized) struct WorkerProtocolTests {
    @Test func aBatchWorkerGetsSameShapedJobsInOneCall() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        // Queued before any worker exists: the first claim can take them together.
        var ids: [String] = []
        for i in 0..<4 {
            ids.append(try await pipeline.submit(#"{"model":"sd15-base","prompt":"batch \#(i)","seed":\#(i * 10),"steps":4,"width":256,"height":256}"#))
        }
        let odd = try await pipeline.submit(#"{"model":"sd15-base","prompt":"other size","steps":4,"width":320,"height":256}"#)
        let sim = try pipeline.worker(latencyMs: 100, extra: ["--max-batch", "4"])
        defer { sim.stop() }
        for (i, id) in ids.enumerated() {
            let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
            let image = (task["images"] as? [[String: Any]])?.first
            #expect(image?["seed"] as? Int == i * 10, "each job of the batch keeps its own seed")
            let png = try await pipeline.call("GET", image?["url"] as? String ?? "")
            #expect(PNGCheck.dimensions(png.body)?.width == 256)
        }
        _ = try await pipeline.poll(odd) { $0["status"] as? String == "succeeded" }
        let metrics = try await pipeline.metrics()
        #expect(metrics.contains("muse_batched_jobs_total 4"), "the four same-shaped jobs went as one batch")
        #expect(metrics.contains(#"muse_worker_calls_total{outcome="accepted"} 2"#), "one call for the batch, one for the odd size")
    }

    @Test func lostResultCallbacksAreRecoveredByPolling() async throws {
        let pipeline = try await PipelineFixture.start(environment: ["MUSE_WORKER_POLL_AFTER_MS": "500"])
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 50, extra: ["--lose-results"])
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"quiet worker","steps":4,"width":256,"height":256}"#)
        let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
        let url = (task["images"] as? [[String: Any]])?.first?["url"] as? String ?? ""
        #expect(PNGCheck.dimensions(try await pipeline.call("GET", url).body) != nil)
        #expect(try await pipeline.metrics().contains(#"muse_worker_polls_total{outcome="finished"} 1"#))
    }

    @Test func anAttemptPastItsDeadlineIsTakenBackAndFailsAfterItsLastTry() async throws {
        let pipeline = try await PipelineFixture.start(environment: ["MUSE_WORKER_LEASE_MS": "1000", "MUSE_WORKER_MAX_ATTEMPTS": "1"])
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 5000)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"too slow","steps":10,"width":256,"height":256}"#)
        let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "failed" }
        let error = task["error"] as? [String: Any]
        #expect(error?["code"] as? String == "worker_lost")
        #expect((error?["message"] as? String)?.contains("lease ran out") == true, "\(error ?? [:])")
        #expect(task["attempts"] as? Int == 1)
    }

    @Test func aQueuedTaskHasAStartEstimate() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 300)
        defer { sim.stop() }
        // One finished task gives the server a service time to estimate with.
        let first = try await pipeline.submit(#"{"model":"sd15-base","prompt":"warm-up","steps":2,"width":256,"height":256}"#)
        _ = try await pipeline.poll(first) { $0["status"] as? String == "succeeded" }
        var last: [String: Any] = [:]
        for i in 0..<5 {
            last = try await pipeline.call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"wait \#(i)","steps":2,"width":256,"height":256}"#)
                .json
        }
        #expect(last["status"] as? String == "queued")
        let position = last["queue_position"] as? Int ?? -1
        #expect(position >= 1)
        let estimate = (last["estimated_start_at"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) }
        #expect(estimate != nil, "\(last["estimated_start_at"] ?? "missing")")
        // Work ahead of it: at least its queue position times a fraction of the 300 ms per task.
        #expect((estimate ?? .distantPast) > Date().addingTimeInterval(0.2))
        #expect((estimate ?? .distantFuture) < Date().addingTimeInterval(10))
    }
}

/// Workers are peers, not trusted: where they may be, what they may claim, and what happens to
/// their jobs when they restart.
@Suite(.serialized) struct WorkerPeerTests {
    static func token(_ pipeline: PipelineFixture) throws -> String {
        try String(contentsOfFile: pipeline.server.dataDir! + "/worker-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func asWorker(_ pipeline: PipelineFixture, _ method: String, _ path: String, _ body: String? = nil) async throws -> RawResponse {
        try await RawHTTPClient(port: pipeline.server.port).request(
            method, path, headers: ["Authorization": "Bearer \(try token(pipeline))", "Content-Type": "application/json"], body: body
        )
    }

    @Test func aWorkerMayRegisterOnlyFromAnAllowedHostAndWithinBounds() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let elsewhere = try await Self.asWorker(
            pipeline, "POST", "/internal/v1/workers", #"{"worker_id":"far","url":"http://10.9.8.7:9000","abilities":["txt2img"]}"#)
        #expect(elsewhere.status == 403, "the embedded default allows loopback workers only")
        let manyModels = (0..<300).map { "\"m\($0)\"" }.joined(separator: ",")
        let bloated = try await Self.asWorker(
            pipeline, "POST", "/internal/v1/workers",
            #"{"worker_id":"big","url":"http://127.0.0.1:9","abilities":["txt2img"],"models_loaded":[\#(manyModels)]}"#)
        #expect(bloated.status == 400)
        #expect((bloated.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "models_loaded")
        let oddAbility = try await Self.asWorker(
            pipeline, "POST", "/internal/v1/workers", #"{"worker_id":"odd","url":"http://127.0.0.1:9","abilities":["TXT2IMG\n"]}"#)
        #expect(oddAbility.status == 400)
        let dotted = try await Self.asWorker(
            pipeline, "POST", "/internal/v1/workers", #"{"worker_id":"..","url":"http://127.0.0.1:9","abilities":["txt2img"]}"#)
        #expect(dotted.status == 400, "an id must be a canonical path segment")
        #expect(!(try await pipeline.metrics()).contains("worker=\"far\""))
        let v6 = try await Self.asWorker(pipeline, "POST", "/internal/v1/workers", #"{"worker_id":"v6","url":"http://[::1]:9","abilities":["txt2img"]}"#)
        #expect(v6.status == 200, "::1 is in the embedded default's allowed hosts: \(v6.text)")
    }

    @Test func aWorkersMetricSeriesGoesWhenItLeaves() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let sim = try pipeline.worker(id: "leaver")
        defer { sim.stop() }
        var seen = false
        for _ in 0..<50 where !seen {
            seen = try await pipeline.metrics().contains(#"muse_worker_busy_ratio{worker="leaver"}"#)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(seen)
        sim.signal(SIGTERM)  // a graceful worker says DELETE /internal/v1/workers/leaver
        _ = await sim.waitForExit()
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!(try await pipeline.metrics()).contains(#"worker="leaver""#))
    }

    @Test func aWorkerThatRestartsDoesNotStrandItsJobs() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let port = freePort()
        let first = try pipeline.worker(latencyMs: 60_000, port: port, id: "phoenix")
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"survives a restart","steps":2,"width":256,"height":256}"#)
        _ = try await pipeline.poll(id) { $0["status"] as? String == "running" }
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        // The same worker comes back at once with nothing: its job must not wait for the 10-minute lease.
        let restarted = ContinuousClock.now
        let second = try pipeline.worker(latencyMs: 50, port: port, id: "phoenix")
        defer { second.stop() }
        let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
        let waited = ContinuousClock.now - restarted
        print("orphaned attempt re-queued and finished \(waited) after the worker re-registered")
        #expect(task["attempts"] as? Int == 2)
        #expect(waited < .seconds(10))
    }

    @Test func anImg2imgTaskGoesOnlyToAWorkerThatHasImg2img() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let textOnly = try pipeline.worker(id: "text-only", extra: ["--abilities", "txt2img"])
        defer { textOnly.stop() }
        let png = Data(TinyPNG.make(width: 8, height: 8)).base64EncodedString()
        let img2img = try await pipeline.submit(
            #"{"model":"sd15-base","prompt":"from an image","steps":2,"width":256,"height":256,"init_image":"data:image/png;base64,\#(png)"}"#)
        let txt2img = try await pipeline.submit(#"{"model":"sd15-base","prompt":"from words","steps":2,"width":256,"height":256}"#)
        // The text-only worker takes the later txt2img task and leaves the img2img one queued, unspent.
        let (made, _) = try await pipeline.poll(txt2img) { $0["status"] as? String == "succeeded" }
        // An image of one's own may start an img2img task; another tenant's is "no such image".
        let imageID = ((made["images"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
        let own = #"{"model":"sd15-base","prompt":"again","steps":2,"width":256,"height":256,"init_image":"\#(imageID)"}"#
        let other = try await GenerationsAPITests.createKey(tenant: "other", dataDir: pipeline.server.dataDir!)
        let refused = try await pipeline.call("POST", "/v1/generations", body: own, key: other)
        #expect(refused.status == 400)
        #expect((refused.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "init_image")
        #expect(try await pipeline.call("POST", "/v1/generations", body: own).status == 202)
        try await Task.sleep(for: .seconds(1))
        let waiting = try await pipeline.call("GET", "/v1/generations/\(img2img)").json
        #expect(waiting["status"] as? String == "queued")
        #expect(waiting["attempts"] as? Int == 0)
        let both = try pipeline.worker(id: "both", extra: ["--abilities", "txt2img,img2img"])
        defer { both.stop() }
        let (done, _) = try await pipeline.poll(img2img) { $0["status"] as? String == "succeeded" }
        #expect(done["attempts"] as? Int == 1)
        #expect(try await pipeline.metrics().contains(#"muse_worker_calls_total{outcome="error"}"#) == false, "no job was pushed to a worker that refuses it")
    }
}
