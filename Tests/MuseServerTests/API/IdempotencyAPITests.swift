import Foundation
import MuseTestSupport
import Testing

/// `Idempotency-Key` on `POST /v1/generations` over a real socket (docs/API.md).
@Suite(.serialized) struct IdempotencyAPITests {
    @Test(arguments: Binary.allCases) func theSameKeyAndBodyReturnTheFirstTaskAndAnotherBodyIs422(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let body = #"{"model":"sd15-base","prompt":"once"}"#
        let first = try await pipeline.post(body, idempotencyKey: "order-1")
        #expect(first.status == 202)
        let again = try await pipeline.post(body, idempotencyKey: "order-1")
        #expect(again.status == 200)
        #expect(again.json["id"] as? String == first.json["id"] as? String)
        let other = try await pipeline.post(#"{"model":"sd15-base","prompt":"twice"}"#, idempotencyKey: "order-1")
        #expect(other.status == 422)
        #expect(other.json["code"] as? String == "invalid_argument")
        // Keys are per tenant: another tenant's same key is a new task.
        let globex = try await pipeline.credential("globex")
        let theirs = try await RawHTTPClient(port: pipeline.server.port).request(
            "POST", "/v1/generations", headers: ["Authorization": "Bearer \(globex)", "Content-Type": "application/json", "Idempotency-Key": "order-1"],
            body: body
        )
        #expect(theirs.status == 202 && theirs.json["id"] as? String != first.json["id"] as? String)
        #expect(try await pipeline.taskCount() == 1)
    }

    @Test(arguments: Binary.allCases) func aRefusedRequestLeavesTheKeyFreeAndBadKeysAre400(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        #expect(try await pipeline.post(#"{"model":"sd15-base","prompt":"x","steps":0}"#, idempotencyKey: "retry-me").status == 400)
        #expect(try await pipeline.post(#"{"model":"sd15-base","prompt":"x","steps":10}"#, idempotencyKey: "retry-me").status == 202)
        let bad = try await pipeline.post(#"{"model":"sd15-base","prompt":"x"}"#, idempotencyKey: String(repeating: "k", count: 300))
        #expect(bad.status == 400)
        #expect((bad.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "Idempotency-Key")
    }

    @Test(arguments: Binary.allCases) func aHundredConcurrentRequestsWithOneKeyCreateOneTask(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let body = #"{"model":"sd15-base","prompt":"stampede","seed":1}"#
        let port = pipeline.server.port
        let key = pipeline.key
        let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<100 {
                group.addTask {
                    let response = try await RawHTTPClient(port: port).request(
                        "POST", "/v1/generations",
                        headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json", "Idempotency-Key": "stampede"],
                        body: body
                    )
                    return (response.status, response.json["id"] as? String)
                }
            }
            return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0.0 == 202 }.count == 1, "exactly one created")
        #expect(statuses.allSatisfy { [200, 202, 409].contains($0.0) }, "\(Set(statuses.map(\.0)))")
        #expect(Set(statuses.compactMap(\.1)).count == 1, "every answer with a task names the same one")
        #expect(try await pipeline.taskCount() == 1)
        print(
            "idempotency (\(binary.rawValue)): 100 concurrent requests, one key → \(statuses.filter { $0.0 == 202 }.count) created, \(statuses.filter { $0.0 == 200 }.count) replayed (200), \(statuses.filter { $0.0 == 409 }.count) in progress (409)"
        )
    }
}

extension PipelineFixture {
    func post(_ body: String, idempotencyKey key: String) async throws -> RawResponse {
        try await RawHTTPClient(port: server.port).request(
            "POST", "/v1/generations", headers: ["Authorization": "Bearer \(self.key)", "Content-Type": "application/json", "Idempotency-Key": key],
            body: body
        )
    }

    func taskCount() async throws -> Int {
        (try await call("GET", "/v1/generations?limit=100").json["data"] as? [Any])?.count ?? -1
    }
}
