import Foundation
import MuseTestSupport
import Testing

/// The dynamic config: limits in the `--config` file apply to a running server when the file
/// changes; a broken edit is ignored and the server keeps its settings.
@Suite struct ConfigReloadTests {
    @Test func limitsFollowTheConfigFileWithoutARestart() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("muse-reload-\(UUID().uuidString).yaml")
        let local = try String(contentsOf: ConfigLoaderTests.configDir.appendingPathComponent("local.yaml"), encoding: .utf8)
        try local.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let pipeline = try await PipelineFixture.start(environment: ["MUSE_CONFIG_RELOAD_INTERVAL_MS": "100"], extra: ["--config", file.path])
        defer { pipeline.stop() }
        let body = #"{"model":"sd15-base","prompt":"steps","steps":100}"#
        #expect(try await pipeline.call("POST", "/v1/generations", body: body).status == 202)

        try local.replacingOccurrences(of: "max_steps: 150", with: "max_steps: 50").write(to: file, atomically: true, encoding: .utf8)
        let refused = try await eventually {
            try await pipeline.call("POST", "/v1/generations", body: body)
        } until: {
            $0.status == 400
        }
        #expect((refused.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "steps")

        // A broken edit changes nothing.
        try (local + "\nnot_a_key: 1\n").write(to: file, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await pipeline.call("POST", "/v1/generations", body: body).status == 400, "still the last good limits")
        #expect(await pipeline.server.logs().contains("config reload failed"))
    }

    /// Repeats `action` until `done` holds (at most 5 s); returns the last result.
    private func eventually<T>(_ action: () async throws -> T, until done: (T) -> Bool) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(5)
        var last = try await action()
        while !done(last), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            last = try await action()
        }
        return last
    }
}
