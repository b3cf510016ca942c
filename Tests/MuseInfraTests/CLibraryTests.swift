import Foundation
import MuseCurl
import MuseHTTP
import MuseTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import MuseCore
@testable import MuseInfra
@testable import MuseServer

/// Each C library, used for real: PostgreSQL and Redis are the ones scripts/test.sh starts.
@Suite struct CLibraryTests {
    static let environment = ProcessInfo.processInfo.environment
    let pool = BlockingPool(pool: .singleton)

    @Test(.enabled(if: environment["TEST_POSTGRES_URL"] != nil, "needs TEST_POSTGRES_URL (scripts/test.sh sets it)"))
    func libpqRunsSelectOne() async throws {
        let url = Self.environment["TEST_POSTGRES_URL"]!
        let rows = try await pool.run {
            let connection = try PostgresConnection(url: url)
            return try connection.query("SELECT 1 AS one, $1::text AS echoed", ["muse"])
        }
        #expect(rows == [["1", "muse"]])
    }

    @Test(.enabled(if: environment["TEST_POSTGRES_URL"] != nil, "needs TEST_POSTGRES_URL (scripts/test.sh sets it)"))
    func libpqReportsServerErrors() async throws {
        let url = Self.environment["TEST_POSTGRES_URL"]!
        await #expect(throws: PostgresError.self) {
            try await pool.run { try PostgresConnection(url: url).query("SELECT * FROM no_such_table") }
        }
    }

    @Test(.enabled(if: environment["TEST_REDIS_PORT"] != nil, "needs TEST_REDIS_PORT (scripts/test.sh sets it)"))
    func hiredisPingsAndIncrements() async throws {
        let host = Self.environment["TEST_REDIS_HOST"] ?? "127.0.0.1"
        let port = Int(Self.environment["TEST_REDIS_PORT"]!)!
        let key = "muse:test:\(UUID().uuidString)"
        let replies = try await pool.run {
            let redis = try RedisConnection(host: host, port: port)
            return [
                try redis.command(["PING"]),
                try redis.command(["INCR", key]),
                try redis.command(["INCR", key]),
                try redis.command(["GET", key]),
                try redis.command(["DEL", key]),
            ]
        }
        #expect(replies == [.status("PONG"), .integer(1), .integer(2), .string(Array("2".utf8)), .integer(1)])
    }

    @Test func libcurlGetsTheServersOwnHealthz() async throws {
        let router = Router()
        OperationsController(readiness: Readiness(), registry: .init()).register(on: router.group("", name: "public"))
        try await withTestServer(router: router) { _, port in
            let response = try await pool.run { try CurlHTTPClient().get("http://127.0.0.1:\(port)/healthz") }
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"status":"ok"}"#)
        }
    }

    @Test func libcurlKeepsAFewKiBOfAnAnswerAndIgnoresProxyVariables() async throws {
        let router = Router()
        router.group("", name: "public").get("/big") { _, _ in .bytes(ByteBuffer(repeating: 0x61, count: 4 << 20), contentType: "text/plain") }
        try await withTestServer(router: router) { _, port in
            // A proxy from the environment would be a detour past the pinned, checked address.
            setenv("http_proxy", "http://127.0.0.1:1", 1)
            defer { unsetenv("http_proxy") }
            let response = try await pool.run { try CurlHTTPClient().get("http://127.0.0.1:\(port)/big") }
            #expect(response.status == 200)
            #expect(response.body.count == CurlHTTPClient.defaultMaxResponseBytes, "4 MiB answered, \(response.body.count) bytes kept")
        }
    }

    /// A webhook to an IPv6 literal: libcurl cannot take one as the host of a resolve entry, so it
    /// goes unpinned (the literal is the checked address), and arrives.
    @Test(.enabled(if: (try? SocketAddress(ipAddress: "::1", port: 0)) != nil && IPv6Loopback.available))
    func aWebhookToAnIPv6LiteralArrives() async throws {
        let router = Router()
        router.group("", name: "public").post("/hook") { request, _ in
            .bytes(ByteBuffer(string: "got \(request.body.readableBytes)"), contentType: "text/plain")
        }
        var configuration = HTTPServerConfiguration.test
        configuration.host = "::1"
        try await withTestServer(configuration: configuration, router: router) { _, port in
            let address: [UInt8] = Array(repeating: 0, count: 15) + [1]
            let status = try await CurlWebhookSender(pool: pool).post(
                url: "http://[::1]:\(port)/hook", host: "::1", port: port, address: address, headers: [], body: Array("{}".utf8), timeout: .seconds(5))
            #expect(status == 200)
        }
    }

    @Test func aHostLookupThatGetsNoAnswerGivesUpAtItsTimeout() async throws {
        // Its only thread is stuck, as on a DNS server that never answers.
        let stuck = BlockingPool(threads: 1)
        let release = DispatchSemaphore(value: 0)
        stuck.execute { release.wait() }
        // Freed after 20 s, so that a lookup that ignores its timeout answers late and fails the
        // test instead of hanging it; the bound is loose because a loaded CI machine is slow.
        let freeing = Task {
            try? await Task.sleep(for: .seconds(20))
            release.signal()
        }
        defer { freeing.cancel(); release.signal() }
        let resolver = SystemHostResolver(pool: stuck, timeout: .milliseconds(300))
        let started = ContinuousClock.now
        await #expect(throws: SystemHostResolver.Failure.self) { try await resolver.addresses(of: "localhost") }
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(try await SystemHostResolver().addresses(of: "localhost").isEmpty == false)
    }

    @Test func libcurlReportsConnectionFailure() async throws {
        await #expect(throws: CurlError.self) {
            try await pool.run { try CurlHTTPClient().get("http://127.0.0.1:1/healthz", timeoutMilliseconds: 2000) }
        }
    }

    /// RFC 4231, test cases 1 and 2.
    @Test func opensslHmacSha256MatchesRFC4231() {
        let case1 = Digest.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(Digest.hex(case1) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let case2 = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(case2) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func opensslSha256AndRandom() {
        #expect(Digest.hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.randomBytes(32) != Digest.randomBytes(32))
        #expect(Digest.equal([1, 2, 3], [1, 2, 3]) && !Digest.equal([1, 2, 3], [1, 2, 4]))
    }

    @Test func sqliteOpensInWALModeAndRoundTripsARow() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muse-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rows = try await pool.run {
            let db = try SQLiteConnection(path: path)
            #expect(try db.journalMode == "wal")
            try db.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY, steps INTEGER, guidance REAL, png BLOB, note TEXT)")
            try db.execute("INSERT INTO tasks VALUES (?, ?, ?, ?, ?)", [.text("gen_1"), .integer(20), .real(7.5), .blob([0x89, 0x50, 0x4E, 0x47]), .null])
            return try db.query("SELECT id, steps, guidance, png, note FROM tasks WHERE id = ?", [.text("gen_1")])
        }
        #expect(rows == [[.text("gen_1"), .integer(20), .real(7.5), .blob([0x89, 0x50, 0x4E, 0x47]), .null]])
        // A second connection sees the committed row: it is on disk, not in one handle's cache.
        let reopened = try await pool.run { () -> ([[SQLiteValue]], String) in
            let db = try SQLiteConnection(path: path)
            return (try db.query("SELECT count(*) FROM tasks"), try db.journalMode)
        }
        #expect(reopened.0 == [[.integer(1)]])
        #expect(reopened.1 == "wal")
    }
}

/// Whether this machine can listen on ::1 (a container may have no IPv6).
enum IPv6Loopback {
    static let available: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }()
}
