import Foundation
import MuseTestSupport
import Testing

/// `openapi.yaml` is served as is, without a key, and every operation it names exists on
/// muse-cloud (a route the document invents would answer "no route" or 405).
@Suite struct OpenAPITests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("openapi.yaml")

    /// (method, path) of every operation, read from the document's `paths` section.
    static func operations(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        var path: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
            if line.hasPrefix("components:") { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let path, line.hasPrefix("    "), !line.hasPrefix("     "), ["get:", "post:", "put:", "delete:"].contains(trimmed) {
                result.append((String(trimmed.dropLast()).uppercased(), path))
            }
        }
        return result
    }

    @Test func theDocumentIsServedAndEveryOperationInItExists() async throws {
        let pipeline = try await PipelineFixture.start()
        defer { pipeline.stop() }
        let served = try await RawHTTPClient(port: pipeline.server.port).request("GET", "/v1/openapi.yaml")
        #expect(served.status == 200)
        let text = try String(contentsOf: Self.file, encoding: .utf8)
        #expect(served.body == Array(text.utf8))
        let operations = Self.operations(text)
        #expect(operations.count >= 20)
        for (method, path) in operations {
            let concrete = path.replacingOccurrences(of: "{id}", with: "gen_01m868kkdp2nam2gfyvsywt43r").replacingOccurrences(of: "{key}", with: "sd15-base")
            let response = try await pipeline.call(method, concrete, body: ["POST", "PUT"].contains(method) ? "{}" : nil)
            #expect(response.status != 405, "\(method) \(path)")
            #expect(!response.text.contains("no route for this path"), "\(method) \(path)")
        }
    }
}
