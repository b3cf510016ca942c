import MuseHTTP
import MuseTestSupport
import Testing

/// Each bad request of the foundation issue, over a real socket: the right 4xx as problem+json,
/// and the server keeps serving other clients.
@Suite struct BadInputTests {
    let fixture = Fixture()

    func expectProblem(_ response: RawResponse, status: Int, code: String, field: String? = nil) {
        #expect(response.status == status)
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.json["code"] as? String == code)
        #expect(response.json["status"] as? Int == status)
        if let field {
            let errors = response.json["errors"] as? [[String: Any]]
            #expect(errors?.first?["field"] as? String == field)
        }
    }

    func stillServes(_ port: Int) async throws {
        let other = try await RawHTTPClient(port: port)
        #expect(try await other.request("GET", "/items/a").status == 200)
    }

    @Test func malformedRequestLine() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("GET /items/a HTTP/1.1 extra junk\r\nHost: x\r\n\r\n")
            expectProblem(try await client.readResponse(), status: 400, code: "invalid_argument")
            #expect(await client.isClosedByPeer())
            try await stillServes(port)
        }
    }

    /// NIO frames any answer to CONNECT without a body, so the refusal must end the connection.
    @Test func connectIsRefusedAndTheConnectionCloses() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port, receiveTimeout: 15)
            try await client.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 400)
            #expect(response.headers["connection"] == "close")
            #expect(await client.isClosedByPeer())
            try await stillServes(port)
        }
    }

    @Test func contentLengthWithTransferEncoding() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send(
                "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            expectProblem(try await client.readResponse(), status: 400, code: "invalid_argument")
            #expect(await client.isClosedByPeer())
            try await stillServes(port)
        }
    }

    @Test func twoDifferentContentLengths() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}")
            expectProblem(try await client.readResponse(), status: 400, code: "invalid_argument")
            try await stillServes(port)
        }
    }

    @Test func headersOverTheLimit() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.maxHeaderBytes = 4096
        try await withTestServer(configuration: configuration, router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("GET /items/a HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 8192))\r\n\r\n")
            expectProblem(try await client.readResponse(), status: 431, code: "payload_too_large")
            try await stillServes(port)
        }
    }

    @Test func bodyOverTheLimitByContentLengthIsRefusedBeforeItIsSent() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.maxBodyBytes = 1024
        try await withTestServer(configuration: configuration, router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            // Only the head goes out: the answer must not wait for the 10 MB.
            try await client.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n")
            let response = try await client.readResponse()
            expectProblem(response, status: 413, code: "payload_too_large")
            #expect(response.headers["connection"] == "close")
            #expect(await client.isClosedByPeer())
            try await stillServes(port)
        }
    }

    @Test func chunkedBodyOverTheLimitIsRefusedAsSoonAsItPassesIt() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.maxBodyBytes = 1024
        try await withTestServer(configuration: configuration, router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = String(repeating: "a", count: 800)
            try await client.send("320\r\n\(chunk)\r\n320\r\n\(chunk)\r\n")
            // No terminating chunk: the server must answer from the size alone.
            expectProblem(try await client.readResponse(), status: 413, code: "payload_too_large")
            #expect(await client.isClosedByPeer())
            try await stillServes(port)
        }
    }

    @Test func invalidJSON() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("POST", "/items", headers: ["Content-Type": "application/json"], body: #"{"name": "fox", "count": }"#)
            expectProblem(response, status: 400, code: "invalid_argument")
            #expect(try await client.request("GET", "/items/a").status == 200, "keep-alive survives a 400")
        }
    }

    @Test func unknownJSONField() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request(
                "POST", "/items", headers: ["Content-Type": "application/json"], body: #"{"name":"fox","count":1,"tags":[{"name":"a","colour":"red"}]}"#)
            expectProblem(response, status: 400, code: "invalid_argument", field: "tags[0].colour")
        }
    }

    @Test func wrongJSONType() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("POST", "/items", headers: ["Content-Type": "application/json"], body: #"{"name":"fox","count":"one"}"#)
            expectProblem(response, status: 400, code: "invalid_argument", field: "count")
        }
    }

    @Test func wrongContentType() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("POST", "/items", headers: ["Content-Type": "text/plain"], body: #"{"name":"fox","count":1}"#)
            expectProblem(response, status: 415, code: "unsupported_media_type")
            let ok = try await client.request(
                "POST", "/items", headers: ["Content-Type": "application/json; charset=utf-8"], body: #"{"name":"fox","count":1}"#)
            #expect(ok.status == 201)
            #expect(ok.json["name"] as? String == "fox")
        }
    }

    @Test func unknownRoute() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            expectProblem(try await client.request("GET", "/nothing/here"), status: 404, code: "not_found")
        }
    }

    @Test func wrongMethod() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("DELETE", "/items")
            expectProblem(response, status: 405, code: "invalid_argument")
            #expect(response.headers["allow"] == "POST")
        }
    }

    @Test func halfARequestThatStallsIsClosedWhileOthersAreServed() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.requestTimeout = .milliseconds(600)
        try await withTestServer(configuration: configuration, router: fixture.router()) { _, port in
            let staller = try await RawHTTPClient(port: port)
            try await staller.send("GET /items/a HTTP/1.1\r\nHost: x\r\nX-Half: ")
            // A trickler: bytes keep coming, yet the request never completes.
            for _ in 0..<3 {
                try await stillServes(port)
                try await Task.sleep(for: .milliseconds(150))
                try? await staller.send("a")
            }
            #expect(await staller.isClosedByPeer())
            try await stillServes(port)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        var configuration = HTTPServerConfiguration.test
        // Long enough that a busy machine (the suite runs in parallel) gets the first request in.
        configuration.idleTimeout = .milliseconds(3000)
        try await withTestServer(configuration: configuration, router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            #expect(try await client.request("GET", "/items/a").status == 200)
            #expect(await client.isClosedByPeer())
        }
    }

    @Test func nonHTTPErrorIsAnInternalProblemThatLeaksNothing() async throws {
        let logs = LogCapture()
        try await withTestServer(router: fixture.router(), logger: logs.logger()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("GET", "/boom", headers: ["X-Request-Id": "req-boom-1"])
            expectProblem(response, status: 500, code: "internal")
            #expect(!response.text.contains("hunter2"))
            #expect(!response.text.contains("LeakyError"))
            #expect(response.text.contains("req-boom-1"))
            let logged = logs.lines.first { $0.level == .error }
            #expect(logged?.metadata["error"]?.contains("LeakyError") == true)
            #expect(logged?.metadata["request_id"] == "req-boom-1")
        }
    }

    @Test func tooManyConnectionsAreRefused() async throws {
        var configuration = HTTPServerConfiguration.test
        configuration.maxConnections = 2
        try await withTestServer(configuration: configuration, router: fixture.router()) { server, port in
            let a = try await RawHTTPClient(port: port)
            let b = try await RawHTTPClient(port: port)
            #expect(try await a.request("GET", "/items/a").status == 200)
            #expect(try await b.request("GET", "/items/b").status == 200)
            let c = try await RawHTTPClient(port: port, receiveTimeout: 15)
            #expect(await c.isClosedByPeer())
            #expect(server.connectionCount == 2)
        }
    }
}
