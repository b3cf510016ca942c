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

    /// A small tmpfs of its own, so filling it fills nothing else. Mounting needs root (CI has it).
    final class TinyDisk {
        let path: String

        static let canMount: Bool = {
            guard let disk = try? TinyDisk(megabytes: 1) else { return false }
            disk.unmount()
            return true
        }()

        init(megabytes: Int) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("muse-tinydisk-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path]) == 0 else {
                try? FileManager.default.removeItem(atPath: path)
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }

        /// Writes a filler file until the disk refuses another byte; its path.
        func fill() -> String {
            let filler = path + "/filler"
            let fd = open(filler, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            defer { close(fd) }
            for chunk in [1 << 20, 4096, 1] {
                let bytes = [UInt8](repeating: 0x55, count: chunk)
                while write(fd, bytes, chunk) == chunk {}
            }
            return filler
        }

        func unmount() {
            _ = Self.run("/bin/umount", ["-l", path])
            try? FileManager.default.removeItem(atPath: path)
        }

        private static func run(_ tool: String, _ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    @Test(.enabled(if: TinyDisk.canMount, "mounting a tmpfs needs root"))
    func aFullDiskIs503AndNotReadyThenBothRecoverOnceSpaceIsFreed() async throws {
        let disk = try TinyDisk(megabytes: 16)
        defer { disk.unmount() }
        let pipeline = try await PipelineFixture.start(dataDir: disk.path + "/data")
        defer { pipeline.stop() }
        let body = #"{"model":"sd15-base","prompt":"on a full disk","steps":2,"width":256,"height":256}"#
        var accepted = [try await pipeline.submit(body)]

        let filler = disk.fill()
        var refused = 0
        for _ in 0..<5 {
            let response = try await pipeline.call("POST", "/v1/generations", body: body)
            if response.status == 202 {  // a write that fits in pages SQLite already holds
                accepted.append(response.json["id"] as? String ?? "")
                continue
            }
            #expect(response.status == 503, "\(response.text)")
            #expect(response.json["code"] as? String == "unavailable")
            #expect(response.headers["retry-after"] == "1")
            refused += 1
        }
        #expect(refused > 0, "a full disk refused no submit")
        #expect(try await RawHTTPClient(port: pipeline.server.port).request("GET", "/readyz").status == 503)

        try FileManager.default.removeItem(atPath: filler)
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
