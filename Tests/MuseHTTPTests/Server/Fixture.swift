import HTTPTypes
import MuseHTTP
import NIOCore
import Synchronization

/// The routes the server tests call: JSON in and out, a slow one, a failing one, streams.
final class Fixture: Sendable {
    struct Tag: Decodable {
        var name: String
    }

    struct CreateItem: Decodable {
        var name: String
        var count: Int
        var tags: [Tag]?
    }

    struct Item: Encodable {
        var id: String
        var name: String
        var count: Int
    }

    struct LeakyError: Error {
        let secret = "password=hunter2"
    }

    /// Streams that ended because their client stopped reading (the write timeout).
    let timedOutStreams = Atomic<Int>(0)
    /// Bytes the flood stream managed to hand to the socket.
    let floodBytes = Atomic<Int>(0)
    /// How many `/slow` handlers have started: a test waits on it to know a request is in flight.
    let slowStarted = Atomic<Int>(0)

    /// Waits until `count` slow handlers have started.
    func waitForSlowRequests(_ count: Int = 1) async throws {
        while slowStarted.load(ordering: .relaxed) < count { try await Task.sleep(for: .milliseconds(5)) }
    }

    /// The `/private` group's check: `Authorization: Bearer let-me-in`; counts the heads it saw.
    struct KeyCheck: HeadFilter {
        struct Caller: Principal {
            let id = "caller_1"
        }

        let fixture: Fixture

        func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
            fixture.checkedHeads.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(1))  // as a key lookup would suspend
            guard head.headerFields[.authorization] == "Bearer let-me-in" else { throw HTTPError(.unauthenticated, detail: "key required") }
            context.principal = Caller()
        }
    }

    /// Heads the `/private` group's check has seen.
    let checkedHeads = Atomic<Int>(0)
    /// Whether `/spool` handlers may read their bodies; closed, they wait before the first read.
    let spoolOpen = Atomic<Bool>(true)
    /// `/spool` handlers whose body ended in an error (the client went away, or it was too large).
    let spoolFailures = Atomic<Int>(0)

    func router() -> Router {
        let router = Router()
        let routes = router.group("", name: "public")
        routes.get("/items/{id}") { request, _ in
            try .json(Item(id: try request.parameters.require("id"), name: "fox", count: 1))
        }
        routes.post("/items") { request, _ in
            let body = try JSONBody.decode(CreateItem.self, from: request)
            return try .json(Item(id: "item_1", name: body.name, count: body.count), status: .created)
        }
        routes.get("/slow") { [self] request, _ in
            slowStarted.add(1, ordering: .relaxed)
            let ms = Int(request.query["ms"] ?? "0") ?? 0
            try await Task.sleep(for: .milliseconds(ms))
            return .bytes(ByteBuffer(string: "slept \(ms)"), contentType: "text/plain")
        }
        routes.get("/boom") { _, _ in throw LeakyError() }
        // An upload route with its own, larger limit; answers the body's size and a sample of its
        // bytes (one per 64 KiB: cheap, as handlers run on the event loop).
        routes.post("/uploads", maxBodyBytes: 8 << 20) { request, _ in
            let body = request.body
            let sample = stride(from: 0, to: body.readableBytes, by: 65536).map { String(body.getInteger(at: body.readerIndex + $0, as: UInt8.self)!) }
            return .bytes(ByteBuffer(string: "\(body.readableBytes) \(sample.joined(separator: ","))"), contentType: "text/plain")
        }
        // A streaming upload: counts the bytes and sums a sample of them by position (every
        // 4099th: cheap on the event loop, and bytes out of order change it), as a handler
        // writing them to disk would see them; `?fail=1` answers 400 before reading any.
        for (path, limit) in [("/spool", 128 << 20), ("/spool-small", 1 << 20)] {
            routes.post(path, maxBodyBytes: limit, streaming: true) { [self] request, _ in
                if request.query["fail"] == "1" { throw HTTPError(.invalidArgument, detail: "refused before the body") }
                while !spoolOpen.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
                var count = 0
                var sum: UInt32 = 0
                do {
                    for try await chunk in request.bodyStream! {
                        var at = (4099 - count % 4099) % 4099
                        while at < chunk.readableBytes {
                            sum &+= UInt32(chunk.getInteger(at: chunk.readerIndex + at, as: UInt8.self)!)
                            at += 4099
                        }
                        count += chunk.readableBytes
                    }
                } catch {
                    spoolFailures.add(1, ordering: .relaxed)
                    throw error
                }
                return .bytes(ByteBuffer(string: "\(count) \(sum)"), contentType: "text/plain")
            }
        }
        // A sized stream (a file sent as it is read): `n` bytes in pieces of 100 KB, or one byte
        // short of its declared length with `short=1`.
        routes.get("/sized") { request, _ in
            let n = Int(request.query["n"] ?? "0") ?? 0
            let short = request.query["short"] == "1"
            var response = Response(status: .ok)
            response.body = .sized(n) { writer in
                var left = short ? n - 1 : n
                while left > 0 {
                    let piece = min(left, 100_000)
                    try await writer.write(ByteBuffer(repeating: 0x62, count: piece))
                    left -= piece
                }
            }
            return response
        }
        routes.get("/events") { request, _ in
            let count = Int(request.query["n"] ?? "3") ?? 3
            return .eventStream { events in
                for i in 0..<count {
                    try await events.send(event: "progress", id: String(i), data: #"{"step":\#(i)}"#)
                }
            }
        }
        routes.get("/flood-with-timeout") { [self] _, _ in
            .eventStream(writeTimeout: .milliseconds(300)) { events in
                let payload = String(repeating: "x", count: 64 * 1024)
                do {
                    while true { try await events.send(data: payload) }
                } catch {
                    self.timedOutStreams.add(1, ordering: .relaxed)
                    throw error
                }
            }
        }
        routes.get("/flood") { [self] _, _ in
            .eventStream { events in
                let payload = String(repeating: "x", count: 64 * 1024)
                while true {
                    try await events.send(data: payload)
                    self.floodBytes.add(payload.utf8.count, ordering: .relaxed)
                }
            }
        }
        let guarded = router.group("/private", name: "private", filters: [KeyCheck(fixture: self)])
        guarded.post("/private/uploads", maxBodyBytes: 128 << 20) { request, context in
            .bytes(ByteBuffer(string: "\(context.principal?.id ?? "nobody") sent \(request.body.readableBytes)"), contentType: "text/plain")
        }
        // A streaming upload for an authenticated caller: waits for `spoolOpen` like `/spool`.
        guarded.post("/private/spool", maxBodyBytes: 1 << 20, streaming: true) { [self] request, context in
            while !spoolOpen.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            var count = 0
            for try await chunk in request.bodyStream! { count += chunk.readableBytes }
            return .bytes(ByteBuffer(string: "\(context.principal?.id ?? "nobody") sent \(count)"), contentType: "text/plain")
        }
        guarded.get("/private/items/{id}") { request, context in
            .bytes(ByteBuffer(string: "\(context.principal?.id ?? "nobody") read \(try request.parameters.require("id"))"), contentType: "text/plain")
        }
        return router
    }
}
