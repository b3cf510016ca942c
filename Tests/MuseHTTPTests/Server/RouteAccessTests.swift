import MuseHTTP
import MuseTestSupport
import Testing

/// Who may call a route is decided by the group it was registered in: the check runs on the
/// head whatever spelling of the path reached it, before any body byte is read.
@Suite struct RouteAccessTests {
    let fixture = Fixture()

    @Test func aGroupsCheckSetsThePrincipalTheHandlerSees() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let response = try await client.request("GET", "/private/items/7", headers: ["Authorization": "Bearer let-me-in"])
            #expect(response.status == 200)
            #expect(response.text == "caller_1 read 7")
            #expect(try await client.request("GET", "/private/items/8").status == 401)
        }
    }

    @Test func anUnauthenticatedUploadIsAnsweredBeforeItsBody() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            // Declares 100 MiB and sends 64 KiB: the 401 must come without the rest.
            try await client.send("POST /private/uploads HTTP/1.1\r\nHost: x\r\nContent-Length: \(100 << 20)\r\n\r\n")
            try await client.send([UInt8](repeating: 0x41, count: 64 << 10))
            let response = try await client.readResponse()
            #expect(response.status == 401)
            #expect(response.json["code"] as? String == "unauthenticated")
            #expect(response.headers["connection"] == "close")
            #expect(await client.isClosedByPeer())
        }
    }

    @Test func anAuthenticatedUploadIsRead() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            let body = String(repeating: "b", count: 3 << 20)
            let response = try await client.request("POST", "/private/uploads", headers: ["Authorization": "Bearer let-me-in"], body: body)
            #expect(response.text == "caller_1 sent \(3 << 20)")
            // The same connection serves the next request.
            #expect(try await client.request("GET", "/private/items/1", headers: ["Authorization": "Bearer let-me-in"]).status == 200)
        }
    }

    @Test func theCredentialsAreCheckedBeforeTheDeclaredSize() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send("POST /private/uploads HTTP/1.1\r\nHost: x\r\nContent-Length: \(1 << 30)\r\n\r\n")
            #expect(try await client.readResponse().status == 401, "a stranger learns nothing of the route's limit")
            let known = try await RawHTTPClient(port: port)
            try await known.send("POST /private/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer let-me-in\r\nContent-Length: \(1 << 30)\r\n\r\n")
            #expect(try await known.readResponse().status == 413)
        }
    }

    @Test(arguments: [
        "//private/items/1", "/private//items/1", "/private/items/1/", "/./private/items/1", "/x/../private/items/1",
        "/%2e/private/items/1", "/private%2fitems/1", "/private/items%2F1", "/private%5Citems/1",
    ])
    func aNonCanonicalPathIsRefusedWhateverTheCredentials(_ path: String) async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            for headers in [[:], ["Authorization": "Bearer let-me-in"]] {
                let response = try await RawHTTPClient(port: port).request("GET", path, headers: headers)
                #expect(response.status == 400, "\(path) \(headers)")
                #expect((response.json["detail"] as? String)?.hasPrefix("non-canonical path") == true)
            }
            #expect(fixture.checkedHeads.load(ordering: .relaxed) == 0, "no refused path reaches a group's check")
        }
    }

    @Test func anUnknownPathIs404AndAWrongMethod405WhateverTheCredentials() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            for headers in [[:], ["Authorization": "Bearer let-me-in"], ["Authorization": "Bearer wrong"]] {
                let unknown = try await RawHTTPClient(port: port).request("GET", "/no/such/route", headers: headers)
                #expect(unknown.status == 404)
                #expect(unknown.headers["content-type"] == "application/problem+json")
                let private404 = try await RawHTTPClient(port: port).request("GET", "/private/nothing", headers: headers)
                #expect(private404.status == 404)
                let wrongMethod = try await RawHTTPClient(port: port).request("DELETE", "/private/uploads", headers: headers)
                #expect(wrongMethod.status == 405)
                #expect(wrongMethod.headers["allow"] == "POST")
            }
        }
    }

    @Test(arguments: [
        ("POST /no/such/route", 404), ("POST /items/a", 405), ("POST //items", 400), ("GET /slow", 413), ("DELETE /private/items/1", 405),
        ("HEAD /items/a", 413),
    ])
    func aRequestNoRouteWillReadIsAnsweredOnItsHead(_ line: String, _ status: Int) async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            // 15 s: well under the 30 s request timeout that would otherwise answer, and loose enough
            // for a full parallel run on two cores (3 s timed out there, the server busy elsewhere).
            let client = try await RawHTTPClient(port: port, receiveTimeout: 15)
            // Declares half a megabyte and sends none of it: the answer must not wait for it.
            try await client.send("\(line) HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == status, "\(line)")
            #expect(await client.isClosedByPeer())
        }
    }

    @Test func aBodylessUnknownPathKeepsTheConnection() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            #expect(try await client.request("GET", "/favicon.ico").status == 404)
            #expect(try await client.request("GET", "/items/a").status == 200)
        }
    }

    @Test func requestsPipelinedBehindARefusalGetEveryEarlierAnswer() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send(
                "GET /private/items/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer let-me-in\r\n\r\n"
                    + "POST /private/uploads HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /items/a HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            let first = try await client.readResponse()
            #expect(first.status == 200 && first.text == "caller_1 read 1")
            #expect(try await client.readResponse().status == 401)
            #expect(await client.isClosedByPeer(), "the connection closes after the refusal")
        }
    }

    @Test func expectContinueIsAnsweredOnceTheChecksPass() async throws {
        try await withTestServer(router: fixture.router()) { _, port in
            let client = try await RawHTTPClient(port: port)
            try await client.send(
                "POST /private/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer let-me-in\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = String(decoding: try await client.readSome(), as: UTF8.self)
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"), "\(interim)")
            try await client.send("hello")
            #expect(try await client.readResponse().text == "caller_1 sent 5")
            // Without the key: the 401, never a 100.
            let stranger = try await RawHTTPClient(port: port)
            try await stranger.send("POST /private/uploads HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(try await stranger.readResponse().status == 401)
        }
    }
}
