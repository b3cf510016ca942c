import Foundation
import MuseTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Webhooks end to end: a real receiver (Python, which also checks the signatures with its own
/// hmac), retries with backoff, 410, redelivery, a hanging receiver, the URL policy, secrets.
@Suite(.serialized) struct WebhooksAPITests {
    /// `Tests/Fixtures/webhook_receiver.py serve` on a free port.
    final class Receiver: @unchecked Sendable {
        static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/webhook_receiver.py").path
        let process = Process()
        let port = freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString).jsonl").path

        /// Another loopback address (127.0.0.2) is another receiving host with the same machine.
        let host: String

        init(mode: String, failFirst: Int = 0, host: String = "127.0.0.1") async throws {
            self.host = host
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Self.script, "serve", String(port), log, mode, String(failFirst), host]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 {
                if (try? await RawHTTPClient(port: port)) != nil { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        var url: String { "http://\(host):\(port)/hook" }

        /// Requests received so far.
        var requests: [[String: Any]] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// Python's verdict on the signatures, e.g. "verified 4 of 4".
        func verify(secret: String) throws -> String {
            let check = Process()
            let out = Pipe()
            check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            check.arguments = ["python3", Self.script, "verify", secret, log]
            check.standardOutput = out
            try check.run()
            check.waitUntilExit()
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func stop() {
            // Only while it runs: the pid of a process already reaped may be another test's server now.
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: log)
        }
    }

    static let fastRetries = ["MUSE_WEBHOOKS_RETRY_SCHEDULE_MS": "300,300,300,300,300", "MUSE_WEBHOOKS_TIMEOUT_MS": "3000"]

    /// Polls the task's deliveries until `done` holds for the first (30 s at most).
    func delivery(_ pipeline: PipelineFixture, task: String, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(30)
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = (try await pipeline.call("GET", "/v1/webhook-deliveries?task=\(task)").json["data"] as? [[String: Any]])?.first ?? [:]
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("delivery of \(task) did not get there: \(last)")
        return last
    }

    @Test(arguments: Binary.allCases) func aReceiverDownForThreeTriesGetsItLaterSignedAndARestartLosesNothing(_ binary: Binary) async throws {
        let receiver = try await Receiver(mode: "ok", failFirst: 3)
        defer { receiver.stop() }
        let pipeline = try await PipelineFixture.start(binary: binary, environment: Self.fastRetries)
        let sim = try pipeline.worker(latencyMs: 20)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"call me","steps":2,"webhook_url":"\#(receiver.url)"}"#)
        _ = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
        // After the first refused try, the server dies; the delivery is in its database.
        let deadline = ContinuousClock.now + .seconds(10)
        while receiver.requests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        pipeline.server.signal(SIGKILL)
        _ = await pipeline.server.waitForExit()
        let restarted = try ServerProcess(
            pipeline.binary.rawValue, arguments: ["--port", String(pipeline.server.port), "--data-dir", pipeline.server.dataDir!],
            environment: Self.fastRetries,
            port: pipeline.server.port
        )
        defer { restarted.stop() }
        try await restarted.waitUntilHealthy()

        let done = try await delivery(pipeline, task: id) { $0["status"] as? String == "succeeded" }
        let codes = (done["attempts"] as? [[String: Any]] ?? []).map { $0["status_code"] as? Int }
        // A try cut short by the kill is not recorded (the receiver may have seen it): at least two 503s, then 200.
        #expect(codes.last == 200 && codes.filter { $0 == 503 }.count >= 2, "\(codes)")
        let received = receiver.requests
        #expect(received.map { $0["status"] as? Int }.suffix(1) == [200])
        #expect(Set(received.compactMap { ($0["headers"] as? [String: String])?["webhook-id"] }).count == 1, "one webhook-id on every try")
        let body = (received.last?["body"] as? String).flatMap { Data(base64Encoded: $0) }
        let task = body.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        #expect(task?["id"] as? String == id && task?["status"] as? String == "succeeded")
        let secret = try await pipeline.call("GET", "/v1/webhooks/secret").json["secret"] as? String ?? ""
        #expect(secret.hasPrefix("whsec_"))
        #expect(try receiver.verify(secret: secret) == "verified \(received.count) of \(received.count)")
        print(
            "webhooks: receiver down for 3 tries, server killed after the first: \(received.count) requests received, \(codes.count) tries recorded \(codes.map { $0.map(String.init) ?? "-" }), final 200, signatures \(try receiver.verify(secret: secret))"
        )
    }

    @Test func aTrainingsFinalStateIsDeliveredSignedWhetherItSucceedsOrIsCanceled() async throws {
        let receiver = try await Receiver(mode: "ok", failFirst: 1)
        defer { receiver.stop() }
        let (pipeline, worker, dataset) = try await TrainingTests.start(.internal, images: 1, environment: Self.fastRetries)
        defer { worker.stop(); pipeline.stop() }
        let hook = #","webhook_url":"\#(receiver.url)""#
        let trained = try #require(
            try await pipeline.call("POST", "/v1/trainings", body: TrainingTests.training(dataset, steps: 30, extra: hook)).json["id"] as? String)
        _ = try await TrainingTests.poll(pipeline, "/v1/trainings/\(trained)", until: TrainingTests.isFinal)
        let done = try await delivery(pipeline, task: trained) { $0["status"] as? String == "succeeded" }
        #expect((done["attempts"] as? [[String: Any]] ?? []).map { $0["status_code"] as? Int } == [503, 200], "\(done)")

        let long = try #require(
            try await pipeline.call("POST", "/v1/trainings", body: TrainingTests.training(dataset, steps: 20000, every: 20000, extra: hook)).json["id"]
                as? String)
        #expect(try await pipeline.call("POST", "/v1/trainings/\(long)/cancel").status == 200)
        _ = try await delivery(pipeline, task: long) { $0["status"] as? String == "succeeded" }

        // The bodies are the training objects in their final states, signed with the tenant's secret.
        let bodies = receiver.requests.filter { $0["status"] as? Int == 200 }.compactMap { request in
            (request["body"] as? String).flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        #expect(bodies.map { $0["id"] as? String } == [trained, long])
        #expect(bodies.first?["status"] as? String == "succeeded" && (bodies.first?["output_model_key"] as? String)?.isEmpty == false)
        #expect(bodies.last?["status"] as? String == "canceled")
        let secret = try await pipeline.call("GET", "/v1/webhooks/secret").json["secret"] as? String ?? ""
        #expect(try receiver.verify(secret: secret) == "verified \(receiver.requests.count) of \(receiver.requests.count)")
        // Another tenant sees neither the deliveries nor the training.
        let bob = try await pipeline.credential("bob")
        #expect(try await pipeline.call("GET", "/v1/webhook-deliveries?task=\(trained)", key: bob).status == 404)
        #expect((try await pipeline.call("GET", "/v1/webhook-deliveries", key: bob).json["data"] as? [Any])?.isEmpty == true)
    }

    @Test(arguments: Binary.allCases) func aHangingReceiverDelaysNoOtherTaskAnd410StopsRetries(_ binary: Binary) async throws {
        let hanging = try await Receiver(mode: "hang")
        let gone = try await Receiver(mode: "gone")
        defer { hanging.stop(); gone.stop() }
        let pipeline = try await PipelineFixture.start(binary: binary, environment: Self.fastRetries)
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 20)
        defer { sim.stop() }
        let slow = try await pipeline.submit(#"{"model":"sd15-base","prompt":"hang","steps":2,"webhook_url":"\#(hanging.url)"}"#)
        _ = try await pipeline.poll(slow) { $0["status"] as? String == "succeeded" }
        while hanging.requests.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        // While that try hangs, other tasks run and finish.
        for i in 0..<5 {
            let other = try await pipeline.submit(#"{"model":"sd15-base","prompt":"meanwhile \#(i)","steps":2}"#)
            _ = try await pipeline.poll(other) { $0["status"] as? String == "succeeded" }
        }
        let pending = try await delivery(pipeline, task: slow) { _ in true }
        #expect((pending["attempts"] as? [Any])?.isEmpty == true, "the hanging try has not ended yet")

        let goneTask = try await pipeline.submit(#"{"model":"sd15-base","prompt":"gone","steps":2,"webhook_url":"\#(gone.url)"}"#)
        let stopped = try await delivery(pipeline, task: goneTask) { $0["status"] as? String == "stopped" }
        #expect((stopped["attempts"] as? [[String: Any]])?.map { $0["status_code"] as? Int } == [410])
        // Redelivery sends it once more.
        let redelivered = try await pipeline.call("POST", "/v1/webhook-deliveries/\(stopped["id"] as? String ?? "")/redeliver")
        #expect(redelivered.status == 202)
        #expect(redelivered.json["tries"] as? Int == 1)
        // One try at a time: asking again while it is pending is 409.
        let twice = try await pipeline.call("POST", "/v1/webhook-deliveries/\(stopped["id"] as? String ?? "")/redeliver")
        #expect(twice.status == 409, "\(twice.text)")
        // The hanging delivery is pending (its try still in flight): no second try of it.
        let pendingAgain = try await pipeline.call("POST", "/v1/webhook-deliveries/\(pending["id"] as? String ?? "")/redeliver")
        #expect(pendingAgain.status == 409)
        let again = try await delivery(pipeline, task: goneTask) { ($0["attempts"] as? [Any])?.count == 2 }
        #expect(again["status"] as? String == "stopped")
        // Every try, a page at a time, newest first.
        let first = try await pipeline.call("GET", "/v1/webhook-deliveries/\(stopped["id"] as? String ?? "")/attempts?limit=1").json
        #expect((first["data"] as? [[String: Any]])?.count == 1)
        let cursor = first["next_cursor"] as? String ?? ""
        #expect(!cursor.isEmpty)
        let second = try await pipeline.call("GET", "/v1/webhook-deliveries/\(stopped["id"] as? String ?? "")/attempts?limit=1&cursor=\(cursor)").json
        #expect((second["data"] as? [[String: Any]])?.first?["status_code"] as? Int == 410)
        #expect(second["next_cursor"] is NSNull)
        let other = try await pipeline.credential("nosy")
        #expect(try await pipeline.call("GET", "/v1/webhook-deliveries/\(stopped["id"] as? String ?? "")/attempts", key: other).status == 404)
        #expect(try await pipeline.call("GET", "/v1/webhook-deliveries/\(stopped["id"] as? String ?? "")/attempts?cursor=-1").status == 400)
        // The hanging try times out (3 s) and is recorded as an error, to be retried.
        let timedOut = try await delivery(pipeline, task: slow) { ($0["attempts"] as? [Any])?.isEmpty == false }
        #expect((timedOut["attempts"] as? [[String: Any]])?.first?["error"] is String)
    }

    @Test(arguments: Binary.allCases) func aHostAtItsLimitDoesNotHoldUpDeliveriesToOtherHosts(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(
            binary: binary, environment: ["MUSE_WEBHOOKS_PER_HOST_CONCURRENCY": "1", "MUSE_WEBHOOKS_CONCURRENCY": "4"])
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 10)
        defer { sim.stop() }
        let hanging = try await Receiver(mode: "hang")
        defer { hanging.stop() }
        let fast = try await Receiver(mode: "ok", host: "127.0.0.2")
        defer { fast.stop() }
        // One tenant floods a receiver that never answers: its host takes one try at a time.
        var flood: [String] = []
        for i in 0..<40 {
            flood.append(
                try await pipeline.submit(#"{"model":"sd15-base","prompt":"flood \#(i)","steps":1,"width":256,"height":256,"webhook_url":"\#(hanging.url)"}"#))
        }
        for id in flood { _ = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" } }
        let other = try await pipeline.credential("victim")
        let victim =
            try await pipeline.call(
                "POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"mine","steps":1,"width":256,"height":256,"webhook_url":"\#(fast.url)"}"#,
                key: other
            ).json["id"] as? String ?? ""
        let started = ContinuousClock.now
        while fast.requests.isEmpty, ContinuousClock.now - started < .seconds(15) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(fast.requests.count == 1, "the other host's delivery went out despite \(flood.count) stuck ones ahead of it")
        #expect(ContinuousClock.now - started < .seconds(10))
        _ = victim
    }

    @Test(arguments: Binary.allCases) func webhookURLsArePolicedAndSecretsAndDeliveriesBelongToTheirTenant(_ binary: Binary) async throws {
        let cloudLike = try await PipelineFixture.start(binary: binary, environment: ["MUSE_WEBHOOKS_ALLOW_LOOPBACK": "false"])
        defer { cloudLike.stop() }
        for url in [
            "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/hook", "http://127.0.0.1:9/hook", "ftp://example.com/x", "not a url",
            "http://[::1]/hook", "http://localhost/hook",
        ] {
            let response = try await cloudLike.call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"p","webhook_url":"\#(url)"}"#)
            #expect(response.status == 400, "\(url): \(response.status)")
            #expect((response.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "webhook_url", "\(url)")
        }
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        #expect(
            try await pipeline.call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"p","webhook_url":"http://127.0.0.1:9/hook"}"#).status
                == 202,
            "loopback is allowed on the embedded default")
        let first = try await pipeline.call("GET", "/v1/webhooks/secret").json["secret"] as? String
        #expect(try await pipeline.call("GET", "/v1/webhooks/secret").json["secret"] as? String == first)
        let rotated = try await pipeline.call("POST", "/v1/webhooks/secret/rotate").json["secret"] as? String
        #expect(rotated != first && rotated?.hasPrefix("whsec_") == true)
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"mine","webhook_url":"http://127.0.0.1:9/hook"}"#)
        let other = try await pipeline.credential("globex")
        #expect(try await pipeline.call("GET", "/v1/webhook-deliveries?task=\(id)", key: other).status == 404)
        #expect((try await pipeline.call("GET", "/v1/webhook-deliveries", key: other).json["data"] as? [Any])?.isEmpty == true)
        #expect(try await pipeline.call("POST", "/v1/webhook-deliveries/whd_01m868kkdp2nam2gfyvsywt43r/redeliver", key: other).status == 404)
        #expect(try await pipeline.call("GET", "/v1/webhooks/secret", key: other).json["secret"] as? String != rotated)
    }
}
