import Foundation
import MuseTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /v1/generations/{id}/events` as an EventSource client sees it: every change once and
/// in order, resumable with `Last-Event-ID`, also across a `kill -9` of the server.
@Suite(.serialized) struct EventStreamAPITests {
    func stream(_ pipeline: PipelineFixture, _ id: String, lastEventID: String? = nil, key: String? = nil) async throws -> EventStreamReader {
        var headers = ["Authorization": "Bearer \(key ?? pipeline.key)"]
        if let lastEventID { headers["Last-Event-ID"] = lastEventID }
        return try await EventStreamReader(port: pipeline.server.port, path: "/v1/generations/\(id)/events", headers: headers)
    }

    @Test(arguments: Binary.allCases) func aStreamShowsEveryChangeOnceAndEndsAfterTheFinalEvent(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"watch me","steps":20,"width":256,"height":256}"#)
        let reader = try await stream(pipeline, id)
        #expect(reader.status == 200 && reader.headers["content-type"] == "text/event-stream")
        let sim = try pipeline.worker(latencyMs: 1000)
        defer { sim.stop() }
        let events = try await reader.rest()
        let types = events.compactMap(\.event)
        #expect(types.first == "status" && types.last == "succeeded", "\(types)")
        #expect(types.contains("progress"))
        #expect(events.compactMap { $0.json["status"] as? String }.prefix(3) == ["queued", "dispatched", "running"])
        let ids = events.compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids.count == events.count && ids == ids.sorted() && Set(ids).count == ids.count, "ids increase: \(ids)")
        let progress = events.compactMap { $0.json["progress"] as? Double }
        #expect(progress == progress.sorted(), "progress never goes back")
        #expect((events.last?.json["images"] as? [Any])?.count == 1)
        #expect(reader.ended)
    }

    @Test(arguments: Binary.allCases) func aClientThatReconnectsWithLastEventIDGetsExactlyWhatItMissed(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let sim = try pipeline.worker(latencyMs: 1500)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"flaky network","steps":15,"width":256,"height":256}"#)
        var seen: [ReceivedEvent] = []
        let first = try await stream(pipeline, id)
        for _ in 0..<3 { if let event = try await first.next() { seen.append(event) } }
        // The client drops; events go on meanwhile.
        try await Task.sleep(for: .milliseconds(400))
        let resumed = try await stream(pipeline, id, lastEventID: seen.last?.id)
        seen += try await resumed.rest()
        let whole = try await stream(pipeline, id).rest()
        #expect(seen.map(\.id) == whole.map(\.id), "once each, in order")
        #expect(seen.last?.event == "succeeded")
        // Resuming after the final event ends at once.
        #expect(try await stream(pipeline, id, lastEventID: whole.last?.id).rest().isEmpty)
    }

    @Test(arguments: Binary.allCases) func resumingAfterAKill9OfTheServerMissesNothing(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        let sim = try pipeline.worker(latencyMs: 2500)
        defer { sim.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"crash mid-stream","steps":25,"width":256,"height":256}"#)
        var seen: [ReceivedEvent] = []
        let first = try await stream(pipeline, id)
        while let event = try await first.next() {
            seen.append(event)
            if event.event == "progress" { break }
        }
        pipeline.server.signal(SIGKILL)
        _ = await pipeline.server.waitForExit()
        let restarted = try ServerProcess(
            pipeline.binary.rawValue, arguments: ["--port", String(pipeline.server.port), "--data-dir", pipeline.server.dataDir!], port: pipeline.server.port)
        defer { restarted.stop() }
        try await restarted.waitUntilHealthy()
        seen += try await stream(pipeline, id, lastEventID: seen.last?.id).rest()
        let whole = try await stream(pipeline, id).rest()
        #expect(seen.map(\.id) == whole.map(\.id), "every event once, in order, across the restart")
        #expect(["succeeded", "failed"].contains(whole.last?.event ?? ""), "\(whole.compactMap(\.event))")
        print("sse resume across kill -9: \(seen.count) events seen once each, final \(whole.last?.event ?? "?")")
    }

    @Test(arguments: Binary.allCases) func keepAlivesAnotherTenantAndBadLastEventID(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary, environment: ["MUSE_EVENTS_KEEP_ALIVE_MS": "200"])
        defer { pipeline.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"nobody runs this"}"#)
        let quiet = try await stream(pipeline, id)
        #expect(try await quiet.next()?.event == "status")
        try await Task.sleep(for: .milliseconds(700))
        // Cancel to end the stream; the keep-alives came before the final event.
        #expect(try await pipeline.call("POST", "/v1/generations/\(id)/cancel").status == 200)
        #expect(try await quiet.next()?.event == "canceled")
        #expect(quiet.comments.contains("keep-alive"))
        let other = try await pipeline.credential("globex")
        #expect(try await stream(pipeline, id, key: other).status == 404)
        #expect(try await stream(pipeline, id, lastEventID: "soon").status == 400)
    }

    /// A stream pipelined behind another request is a request in progress, not an idle connection.
    @Test(arguments: Binary.allCases) func aStreamPipelinedBehindARequestOutlivesTheIdleTimeout(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary, environment: ["MUSE_SERVER_IDLE_TIMEOUT_MS": "1000"])
        defer { pipeline.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"nobody runs this"}"#)
        let client = try await RawHTTPClient(port: pipeline.server.port, receiveTimeout: 2.5)
        let auth = "Authorization: Bearer \(pipeline.key)\r\n"
        try await client.send(
            "GET /v1/generations?limit=1 HTTP/1.1\r\nHost: x\r\n\(auth)\r\n" + "GET /v1/generations/\(id)/events HTTP/1.1\r\nHost: x\r\n\(auth)\r\n"
        )
        #expect(try await client.readResponse().status == 200)
        #expect(await client.isClosedByPeer() == false, "the stream was cut at the idle timeout")
    }

    @Test(arguments: Binary.allCases) func aTenantHoldsAtMostItsCapOfStreams(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary, environment: ["MUSE_EVENTS_MAX_STREAMS_PER_TENANT": "2"])
        defer { pipeline.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"nobody runs me","steps":2,"width":256,"height":256}"#)
        let first = try await stream(pipeline, id)
        let second = try await stream(pipeline, id)
        #expect(first.status == 200 && second.status == 200)
        let third = try await pipeline.call("GET", "/v1/generations/\(id)/events")
        #expect(third.status == 429)
        #expect(third.json["code"] as? String == "rate_limited")
        #expect(third.headers["retry-after"] != nil)
        // Another tenant has its own cap.
        let other = try await pipeline.credential("other")
        let mine =
            try await pipeline.call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"theirs","steps":2,"width":256,"height":256}"#, key: other)
            .json["id"] as? String ?? ""
        #expect(try await stream(pipeline, mine, key: other).status == 200)
        // A closed stream frees its place.
        first.close()
        var reopened = 0
        for _ in 0..<50 where reopened != 200 {
            try await Task.sleep(for: .milliseconds(100))
            reopened = try await stream(pipeline, id).status
        }
        #expect(reopened == 200)
    }

    @Test(arguments: Binary.allCases) func aStreamEndsAfterItsLifetimeAndResumesWithLastEventID(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(
            binary: binary, environment: ["MUSE_EVENTS_MAX_LIFETIME_MS": "1500", "MUSE_EVENTS_KEEP_ALIVE_MS": "200"])
        defer { pipeline.stop() }
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"a long wait","steps":2,"width":256,"height":256}"#)
        let started = ContinuousClock.now
        let reader = try await stream(pipeline, id)
        let events = try await reader.rest()
        let lasted = ContinuousClock.now - started
        #expect(reader.ended, "the stream ends cleanly")
        #expect(lasted >= .milliseconds(1400) && lasted < .seconds(10), "\(lasted)")
        #expect(reader.comments.count >= 3, "keep-alives while waiting: \(reader.comments)")
        let sim = try pipeline.worker(latencyMs: 100)
        defer { sim.stop() }
        let resumed = try await stream(pipeline, id, lastEventID: events.last?.id)
        let more = try await resumed.rest()
        #expect(more.first?.json["status"] as? String == "dispatched", "exactly what it missed: \(more.compactMap(\.event))")
        #expect(more.last?.event == "succeeded")
    }
}
