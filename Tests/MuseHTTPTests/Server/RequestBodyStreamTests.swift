import Foundation
import MuseHTTP
import MuseTestSupport
import NIOCore
import NIOPosix
import Testing

/// A streaming route reads its body as it arrives: whole and in order, never faster than the
/// handler takes it, cut at the route's limit, and ended in error when the client goes away.
@Suite struct RequestBodyStreamTests {
    let fixture = Fixture()

    /// `count` bytes (a multiple of 1 MiB) that differ by position.
    static func pattern(_ count: Int) -> [UInt8] {
        let block = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for i in 0..<(count >> 20) { bytes += block.map { $0 &+ UInt8(truncatingIfNeeded: i) } }
        return bytes
    }

    /// The fixture's sample sum: every 4099th byte.
    static func sum(_ bytes: [UInt8]) -> UInt32 { stride(from: 0, to: bytes.count, by: 4099).reduce(0) { $0 &+ UInt32(bytes[$1]) } }

    func withServer(_ body: (Int) async throws -> Void) async throws {
        try await withTestServer(router: fixture.router()) { _, port in try await body(port) }
    }

    @Test func aStreamedBodyArrivesWholeAndInOrder() async throws {
        try await withServer { port in
            let bytes = Self.pattern(3 << 20)
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("POST", "/spool", bytes: bytes)
            #expect(response.status == 200)
            #expect(response.text == "\(bytes.count) \(Self.sum(bytes))")
            // Chunked, in pieces, on the same kept-alive connection.
            try await client.send("POST /spool HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in stride(from: 0, to: bytes.count, by: 700_000) {
                let part = Array(bytes[piece..<min(piece + 700_000, bytes.count)])
                try await client.send(Array(String(part.count, radix: 16).utf8) + [13, 10] + part + [13, 10])
            }
            try await client.send("0\r\n\r\n")
            #expect(try await client.readResponse().text == "\(bytes.count) \(Self.sum(bytes))")
            // An empty body is a stream that ends at once.
            #expect(try await client.request("POST", "/spool", bytes: []).text == "0 0")
        }
    }

    @Test func aHandlerThatIsBehindStopsTheSocketBeingRead() async throws {
        fixture.spoolOpen.store(false, ordering: .relaxed)
        try await withServer { port in
            let bytes = Self.pattern(64 << 20)
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: \(bytes.count)\r\n\r\n")
            // Send until the socket takes nothing for a while: the server stopped reading.
            var sent = 0
            var stalled = 0
            while sent < bytes.count, stalled < 40 {
                let n = client.sendWithoutWaiting(bytes[sent...])
                sent += n
                stalled = n == 0 ? stalled + 1 : 0
                if n == 0 { try await Task.sleep(for: .milliseconds(25)) }
            }
            // The kernel's buffers on both sides and a few reads held for the handler, not the body.
            #expect(sent < 32 << 20, "\(sent) bytes of \(bytes.count) were taken while the handler read nothing")
            fixture.spoolOpen.store(true, ordering: .relaxed)
            try await client.send(Array(bytes[sent...]))
            #expect(try await client.readResponse().text == "\(bytes.count) \(Self.sum(bytes))")
        }
    }

    @Test func aBodyPastTheLimitIs413AndTheConnectionCloses() async throws {
        try await withServer { port in
            let client = try await RawHTTPClient(port: port)
            // Chunked: no length to refuse it by, so the stream itself ends at the limit.
            try await client.send("POST /spool-small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            let piece = [UInt8](repeating: 0x41, count: 256 << 10)
            for _ in 0..<6 {
                try? await client.send(Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10])
            }
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(await client.isClosedByPeer())
            #expect(fixture.spoolFailures.load(ordering: .relaxed) == 1)
            // A declared length past the limit is refused on the head, before the handler runs.
            let declared = try await RawHTTPClient(port: port)
            try await declared.send("POST /spool-small HTTP/1.1\r\nHost: x\r\nContent-Length: \(2 << 20)\r\n\r\n")
            #expect(try await declared.readResponse().status == 413)
            #expect(fixture.spoolFailures.load(ordering: .relaxed) == 1)
        }
    }

    @Test func anAnswerBeforeTheBodyEndsClosesTheConnection() async throws {
        try await withServer { port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /spool?fail=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + String(repeating: "x", count: 1000))
            let response = try await client.readResponse()
            #expect(response.status == 400)
            #expect(response.headers["connection"] == "close")
            #expect(await client.isClosedByPeer())
        }
    }

    @Test func uploadsPastTheLimitInFlightAre503UntilOneEnds() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.maxStreamingBodies = 1
        fixture.spoolOpen.store(false, ordering: .relaxed)
        try await withTestServer(configuration: configuration, router: fixture.router()) { server, port in
            let first = try await RawHTTPClient(port: port)
            try await first.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
            while server.streamingBodiesInFlight == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let second = try await RawHTTPClient(port: port)
            let refused = try await second.request("POST", "/spool", bytes: Array("abc".utf8))
            #expect(refused.status == 503 && refused.headers["retry-after"] == "1", "\(refused.status) \(refused.text)")
            // A route that collects its body is not counted.
            #expect(try await RawHTTPClient(port: port).request("POST", "/uploads", bytes: Array("abc".utf8)).status == 200)
            fixture.spoolOpen.store(true, ordering: .relaxed)
            #expect(try await first.readResponse().status == 200)
            #expect(try await RawHTTPClient(port: port).request("POST", "/spool", bytes: Array("abc".utf8)).status == 200)
            // A client that leaves mid-body gives its place back too.
            let leaving = try await RawHTTPClient(port: port)
            try await leaving.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            while server.streamingBodiesInFlight == 0 { try await Task.sleep(for: .milliseconds(5)) }
            leaving.shutdown()
            for _ in 0..<200 where server.streamingBodiesInFlight != 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.streamingBodiesInFlight == 0)
        }
    }

    @Test func oneCallerTakesAtMostItsShareOfThePlaces() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.maxStreamingBodies = 4
        configuration.maxStreamingBodiesPerCaller = 1
        fixture.spoolOpen.store(false, ordering: .relaxed)
        try await withTestServer(configuration: configuration, router: fixture.router()) { server, port in
            let held = try await RawHTTPClient(port: port)
            try await held.send("POST /private/spool HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer let-me-in\r\nContent-Length: 3\r\n\r\nabc")
            while server.streamingBodiesInFlight == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let same = try await RawHTTPClient(port: port).request(
                "POST", "/private/spool", headers: ["Authorization": "Bearer let-me-in"], bytes: Array("abc".utf8))
            #expect(same.status == 503, "the caller's one place is taken")
            // Another caller (here the unauthenticated routes' one) still gets a place.
            let other = try await RawHTTPClient(port: port)
            try await other.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
            for _ in 0..<400 where server.streamingBodiesInFlight < 2 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(server.streamingBodiesInFlight == 2)
            fixture.spoolOpen.store(true, ordering: .relaxed)
            #expect(try await held.readResponse().text == "caller_1 sent 3")
            #expect(try await other.readResponse().status == 200)
        }
    }

    @Test func continueIsSentOnlyWhenTheHandlerReadsTheBody() async throws {
        try await withServer { port in
            // Refused before it reads: the answer comes with no 100, and the body is never asked for.
            let refused = try await RawHTTPClient(port: port)
            try await refused.send("POST /spool?fail=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            let answer = try await refused.readResponse()
            #expect(answer.status == 400, "\(answer.status): no 100 Continue before the refusal")
            // Read: 100 first, then the body goes and the answer follows.
            let taken = try await RawHTTPClient(port: port)
            try await taken.send("POST /spool HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            #expect(try await taken.readResponse().status == 100)
            try await taken.send("abc")
            #expect(try await taken.readResponse().text == "3 \(Self.sum(Array("abc".utf8)))")
        }
    }

    @Test func aClientThatGoesAwayEndsTheBodyInError() async throws {
        try await withServer { port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + String(repeating: "x", count: 1000))
            client.shutdown()
            for _ in 0..<400 where fixture.spoolFailures.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(25)) }
            #expect(fixture.spoolFailures.load(ordering: .relaxed) == 1)
        }
    }
}
