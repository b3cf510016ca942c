import Foundation
import MuseTestSupport
import Testing

/// Storage faults are the storage's, not the client's: 503 with Retry-After, `/readyz` 503 while
/// a write cannot commit, and both back without a restart.
@Suite(.serialized) struct StorageFaultTests {
    /// Another process holding the database's write lock, as a backup tool or a stuck CLI would.
    final class LockHolder {
        let process = Process()
        let release = Pipe()
        let ready = Pipe()

        init(database: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-c",
                """
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1], isolation_level=None)
                c.execute('BEGIN IMMEDIATE')
                print('locked', flush=True)
                sys.stdin.readline()
                c.execute('COMMIT')
                """,
                database,
            ]
            process.standardInput = release
            process.standardOutput = ready
            try process.run()
            _ = ready.fileHandleForReading.availableData  // "locked"
        }

        func unlock() {
            release.fileHandleForWriting.write(Data("\n".utf8))
            process.waitUntilExit()
        }
    }

    @Test func aHeldWriteLockIs503ThenSubmitsSucceedAndNothingAcceptedIsLost() async throws {
        let pipeline = try await PipelineFixture.start(environment: ["MUSE_STORAGE_BUSY_TIMEOUT_MS": "300"])
        defer { pipeline.stop() }
        let body = #"{"model":"sd15-base","prompt":"while locked","steps":2,"width":256,"height":256}"#
        var accepted: [String] = []
        accepted.append(try await pipeline.submit(body))

        let lock = try LockHolder(database: pipeline.server.dataDir! + "/muse.sqlite")
        for _ in 0..<3 {
            let refused = try await pipeline.call("POST", "/v1/generations", body: body)
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.json["code"] as? String == "unavailable")
            #expect(refused.headers["retry-after"] == "1")
        }
        #expect(try await RawHTTPClient(port: pipeline.server.port).request("GET", "/readyz").status == 503)
        lock.unlock()

        #expect(try await RawHTTPClient(port: pipeline.server.port).request("GET", "/readyz").status == 200)
        for _ in 0..<3 { accepted.append(try await pipeline.submit(body)) }
        for id in accepted {
            #expect(try await pipeline.call("GET", "/v1/generations/\(id)").json["status"] as? String == "queued")
        }
        let listed = try await pipeline.call("GET", "/v1/generations?limit=100").json["data"] as? [[String: Any]] ?? []
        #expect(listed.count == accepted.count, "exactly the accepted tasks exist")
        #expect(!(await pipeline.server.logs()).contains("unhandled error"))
    }
}
