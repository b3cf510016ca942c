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
        for i in 0..<4 { ids.append(try await pipeline.submit(#"{"model":"sd15-base","prompt":"batch \#(i)","seed":\#(i * 10),"steps":4,"width":256,"height":256}"#)) }
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
            last = try await pipeline.call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"wait \#(i)","steps":2,"width":256,"height":256}"#).json
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
