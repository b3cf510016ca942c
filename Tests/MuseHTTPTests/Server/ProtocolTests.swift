import Foundation
import MuseHTTP
import MuseTestSupport
import Testing

/// HTTP/1.1 behaviour over a real socket: keep-alive, pipelining, HEAD, request ids.
@Suite struct ProtocolTests {
    let fixture = Fixture()

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            // The first is the slowest: answers must still come back in request order.
            try await client.send(
                "GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /items/second HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(try await client.readResponse().text == "slept 300")
            #expect(try await client.readResponse().json["id"] as? String == "second")
            #expect(try await client.readResponse().text == "slept 10")
        }
    }

    @Test func keepAliveServesManyRequestsOnOneConnection() async throws {
        try await withTestServer(router: fixture.router()) { server, port in
            let client = try await RawHTTPClient(port: port)
            for i in 0..<20 {
                #expect(try await client.request("GET", "/items/\(i)").json["id"] as? String == "\(i)")
            }
            #expect(server.connectionCount == 1)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("GET", "/items/a", headers: ["Connection": "close"])
            #expect(response.status == 200)
            #expect(response.headers["connection"] == "close")
            #expect(await client.isClosedByPeer())
        }
    }

    @Test func headAnswersTheHeadWithoutABody() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let get = try await client.request("GET", "/items/a")
            let head = try await client.request("HEAD", "/items/a")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.headers["content-length"] == get.headers["content-length"])
            // The connection is still in sync: no stray body bytes before the next response.
            #expect(try await client.request("GET", "/items/b").json["id"] as? String == "b")
        }
    }

    @Test func saneRequestIdIsEchoedOtherwiseGenerated() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            #expect(try await client.request("GET", "/items/a", headers: ["X-Request-Id": "abc-123.x:y"]).headers["x-request-id"] == "abc-123.x:y")
            let insane = try await client.request("GET", "/items/a", headers: ["X-Request-Id": "has spaces and <tags>"])
            let generated = insane.headers["x-request-id"] ?? ""
            #expect(generated.count == 32 && generated.allSatisfy(\.isHexDigit))
            let none = try await client.request("GET", "/items/a").headers["x-request-id"] ?? ""
            #expect(none.count == 32 && none != generated)
        }
    }

    @Test func aChunkedUploadWithinTheRoutesOwnLimitArrivesWhole() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /uploads HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in 0..<64 {
                let chunk = [UInt8](repeating: UInt8(i), count: 65536)
                try await client.send(Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10])
            }
            try await client.send("0\r\n\r\n")
            // 4 MiB: over the server's 1 MiB default, within the route's 8 MiB.
            #expect(try await client.readResponse().text == "\(64 * 65536) \((0..<64).map(String.init).joined(separator: ","))")
        }
    }

    @Test func percentEncodedQueryIsDecoded() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            #expect(try await client.request("GET", "/slow?ms=%35").text == "slept 5")
        }
    }
}
