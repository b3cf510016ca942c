import Foundation
import MuseTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The whole pipeline with real processes: each binary (muse-cloud with an API key, muse-internal
/// with an SSO token), simulated workers speaking the worker protocol over real sockets, SQLite,
/// PNG files.
@Suite(.serialized) struct GenerationFlowTests {
    @Test(arguments: Binary.allCases) func submitRunsOnAWorkerAndTheImagesDecode(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        // Long enough that a poll every 20 ms sees it running on a loaded machine.
        let sim = try pipeline.worker(latencyMs: 600)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"a red fox","seed":42,"num_images":2,"steps":20,"width":256,"height":384}"#)
        let (task, seen) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
        #expect(seen.contains("running"), "progress was reported: \(seen)")
        #expect(task["progress"] as? Double == 1)
        #expect(task["attempts"] as? Int == 1)
        let images = task["images"] as? [[String: Any]] ?? []
        #expect(images.map { $0["seed"] as? Int } == [42, 43])
        for image in images {
            let png = try await pipeline.call("GET", image["url"] as? String ?? "")
            #expect(png.status == 200)
            #expect(png.headers["content-type"] == "image/png")
            let size = PNGCheck.dimensions(png.body)
            #expect(size?.width == 256 && size?.height == 384)
        }
        // Another tenant cannot read them.
        let other = try await pipeline.credential("globex")
        #expect(try await pipeline.call("GET", images.first?["url"] as? String ?? "", key: other).status == 404)
    }

    @Test func imageSeedsWrapAtTwoToThe32() async throws {
        let pipeline = try await PipelineFixture.start(binary: .cloud)
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 10)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"a red fox","seed":4294967295,"num_images":2,"steps":2,"width":256,"height":256}"#)
        let (task, _) = try await pipeline.poll(id) { ["succeeded", "failed"].contains($0["status"] as? String) }
        #expect((task["images"] as? [[String: Any]])?.map { $0["seed"] as? Int } == [4_294_967_295, 0], "\(task)")
    }

    @Test(arguments: Binary.allCases) func theSameSeedGivesTheSameBytes(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let sim = try pipeline.worker()
        defer { sim.stop() }
        var bodies: [[UInt8]] = []
        for _ in 0..<2 {
            let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"same","seed":7,"steps":5,"width":256,"height":256}"#)
            let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
            let url = (task["images"] as? [[String: Any]])?.first?["url"] as? String ?? ""
            bodies.append(try await pipeline.call("GET", url).body)
        }
        #expect(!bodies[0].isEmpty && bodies[0] == bodies[1])
    }

    @Test(arguments: Binary.allCases) func aTaskWhoseWorkerIsKilledCompletesOnAnother(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let doomed = try pipeline.worker(latencyMs: 4000, id: "w-doomed")
        try await Task.sleep(for: .milliseconds(800))
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"survivor","steps":10,"width":256,"height":256}"#)
        _ = try await pipeline.poll(id) { $0["status"] as? String == "running" }
        doomed.signal(SIGKILL)
        let rescuer = try pipeline.worker(latencyMs: 30, id: "w-rescuer")
        defer { rescuer.stop() }
        // Three missed heartbeats (6 s) make the first worker lost; its attempt is queued again.
        let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
        // The second attempt is the rescuer's: the lost one went back to the queue.
        #expect(task["attempts"] as? Int == 2)
        #expect(task["error"] is NSNull)
    }

    @Test(arguments: Binary.allCases) func cancelWhileRunningIsFinalAndTheLateResultChangesNothing(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 600)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"cancel me","steps":10,"width":256,"height":256}"#)
        _ = try await pipeline.poll(id) { $0["status"] as? String == "running" }
        let canceled = try await pipeline.call("POST", "/v1/generations/\(id)/cancel")
        #expect(canceled.status == 200)
        #expect(canceled.json["status"] as? String == "canceled")
        try await Task.sleep(for: .milliseconds(900))
        let after = try await pipeline.call("GET", "/v1/generations/\(id)").json
        #expect(after["status"] as? String == "canceled")
        #expect((after["images"] as? [Any])?.isEmpty == true)
    }

    @Test func offPeakWorkWaitsOutsideTheWindowThenFillsAnIdleWorker() async throws {
        // A window that never opens: only idle workers release off-peak work.
        let closed = try await PipelineFixture.start(environment: ["MUSE_SCHEDULING_OFFPEAK_START_HOUR": "3", "MUSE_SCHEDULING_OFFPEAK_END_HOUR": "3"])
        defer { closed.stop() }
        let created = try await closed.call(
            "POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"night batch","schedule":"offpeak","priority":"offline","steps":5}"#)
        #expect(created.json["status"] as? String == "scheduled")
        let id = created.json["id"] as? String ?? ""
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await closed.call("GET", "/v1/generations/\(id)").json["status"] as? String == "scheduled")
        let sim = try closed.worker(latencyMs: 20)
        defer { sim.stop() }
        _ = try await closed.poll(id) { $0["status"] as? String == "succeeded" }
    }

    @Test(arguments: Binary.allCases) func afterKill9OfTheServerEveryTaskFinishesOnce(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 700)
        defer { sim.stop() }
        var ids: [String] = []
        for i in 0..<4 { ids.append(try await pipeline.submit(#"{"model":"sd15-base","prompt":"crash \#(i)","steps":5,"width":256,"height":256}"#)) }
        _ = try await pipeline.poll(ids[0]) { $0["status"] as? String == "running" }
        // Queued, dispatched and running tasks all exist at this moment.
        let server = pipeline.server
        server.signal(SIGKILL)
        _ = await server.waitForExit()
        let restarted = try ServerProcess(binary.rawValue, arguments: ["--port", String(server.port), "--data-dir", server.dataDir!], port: server.port)
        defer { restarted.stop() }
        try await restarted.waitUntilHealthy()
        for id in ids {
            let (task, _) = try await pipeline.poll(id) { ["succeeded", "failed", "canceled"].contains($0["status"] as? String ?? "") }
            #expect(task["status"] as? String == "succeeded", "\(id): \(task["status"] ?? "?") \(task["error"] ?? "")")
            #expect((task["images"] as? [Any])?.count == 1, "finished once, with one image")
        }
    }

    @Test func metricsDescribeThePipeline() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let server = pipeline.server
        let failing = try ServerProcess(
            "muse-worker-sim",
            arguments: [
                "--port", String(freePort()), "--server", "http://127.0.0.1:\(server.port)", "--token-file", server.dataDir! + "/worker-token",
                "--latency-ms", "20", "--fail-rate", "1", "--worker-id", "w-failing",
            ]
        )
        defer { failing.stop() }
        let id = try await pipeline.submit(#"{"model":"sdxl-base","prompt":"doomed","steps":4,"width":512,"height":512}"#)
        let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "failed" }
        #expect((task["error"] as? [String: Any])?["code"] as? String == "internal")
        try await Task.sleep(for: .milliseconds(1500))  // the gauges refresh every second
        let metrics = try await pipeline.metrics()
        for line in [
            #"muse_tasks_submitted_total{lane="online"} 1"#, #"muse_task_failures_total{code="internal"} 1"#,
            #"muse_dispatch_latency_seconds_count{lane="online"} 1"#, #"muse_model_switches_total 1"#,
            #"muse_tasks{status="failed"} 1"#, #"muse_queue_depth{lane="online"} 0"#, #"muse_worker_busy_ratio{worker="w-failing"}"#,
            "muse_sqlite_group_transactions_count ", "muse_sqlite_group_seconds_count ",
            #"muse_sqlite_wait_seconds_count{lane="client"}"#, #"muse_sqlite_wait_seconds_count{lane="dispatch"}"#,
        ] {
            #expect(metrics.contains(line), "missing: \(line)")
        }
    }

    @Test func workerRoutesNeedTheWorkerToken() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let server = pipeline.server
        let client = try await RawHTTPClient(port: server.port)
        let response = try await client.request(
            "POST", "/internal/v1/workers", headers: ["Content-Type": "application/json", "Authorization": "Bearer wrong"],
            body: #"{"worker_id":"w-x","url":"http://127.0.0.1:1","abilities":["txt2img"]}"#
        )
        #expect(response.status == 401)
    }
}
