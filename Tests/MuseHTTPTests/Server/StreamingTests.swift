import Foundation
import MuseHTTP
import MuseTestSupport
import Testing

/// Server-sent events: framing, and back-pressure against a reader that does not read.
@Suite struct StreamingTests {
    let fixture = Fixture()

    @Test func eventsArriveFramedAndTheStreamEnds() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("GET", "/events?n=3")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/event-stream")
            #expect(response.headers["transfer-encoding"] == "chunked")
            #expect(response.text == (0..<3).map { "id: \($0)\nevent: progress\ndata: {\"step\":\($0)}\n\n" }.joined())
            // The stream ended cleanly: the connection serves the next request.
            #expect(try await client.request("GET", "/items/a").status == 200)
        }
    }

    @Test func aSizedStreamSaysItsLengthAndOneThatFallsShortEndsTheConnection() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("GET", "/sized?n=1234567")
            #expect(response.status == 200 && response.headers["content-length"] == "1234567" && response.headers["transfer-encoding"] == nil)
            #expect(response.body.count == 1_234_567 && response.body.allSatisfy { $0 == 0x62 })
            let head = try await client.request("HEAD", "/sized?n=1234567")
            #expect(head.headers["content-length"] == "1234567" && head.body.isEmpty)
            #expect(try await client.request("GET", "/items/a").status == 200, "the connection is reused after a sized stream")
            // Short of what its head promised: the client must not take it for whole, so the connection ends.
            let short = try await RawHTTPClient(port: port)
            try await short.send("GET /sized?n=300000&short=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            let cut = try await short.readResponse()
            #expect(cut.headers["content-length"] == "300000" && cut.body.count == 299_999)
            #expect(await short.isClosedByPeer())
        }
    }

    @Test func aReaderThatDoesNotReadStallsTheProducer() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
            // Waits for the producer to stop (the socket buffers full); a loaded machine takes longer.
            var stalled = -1
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(200))
                let now = fixture.floodBytes.load(ordering: .relaxed)
                // Stalled once it has produced something and then stopped (it may start late on a loaded machine).
                if now == stalled, now > 0 { break }
                stalled = now
            }
            try await Task.sleep(for: .milliseconds(500))
            let later = fixture.floodBytes.load(ordering: .relaxed)
            // Only the socket buffers' worth (a few MiB) left the producer; then it waits.
            #expect(stalled < 32 * 1024 * 1024, "produced \(stalled) bytes for a reader that reads nothing")
            #expect(later == stalled, "the producer kept going: \(stalled) → \(later)")
            // Reading lets it go on: drain until the producer moves (bounded, in case it never does).
            var read = 0
            while fixture.floodBytes.load(ordering: .relaxed) == later, read < 256 * 1024 * 1024 {
                read += try await client.readSome().count
            }
            #expect(fixture.floodBytes.load(ordering: .relaxed) > later, "the producer did not resume after \(read) bytes were read")
        }
    }

    @Test func aReaderThatStopsReadingIsDroppedAfterTheWriteTimeout() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("GET /flood-with-timeout HTTP/1.1\r\nHost: x\r\n\r\n")
            for _ in 0..<100 where fixture.timedOutStreams.load(ordering: .relaxed) == 0 {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(fixture.timedOutStreams.load(ordering: .relaxed) == 1, "the stuck stream ended")
            // Its connection is closed: reading drains what was buffered, then meets the end.
            var drained = 0
            while drained < 256 << 20 {
                let bytes = try await client.readSome()
                if bytes.isEmpty { break }
                drained += bytes.count
            }
            #expect(await client.isClosedByPeer())
        }
    }
}
