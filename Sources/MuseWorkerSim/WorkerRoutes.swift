import Foundation
import MuseCore
import MuseHTTP
import NIOCore

/// The worker's own routes (WORKER-PROTOCOL.md, Jobs): take jobs, report on them, cancel, health.
struct WorkerRoutes: Sendable {
    let gpu: SimulatedGPU
    let abilities: [String]
    let maxBatch: Int

    /// One job, or `{"jobs": [...]}` for a batch.
    enum Submission: Decodable {
        case single(WorkerJob)
        case batch([WorkerJob])

        enum Keys: String, CodingKey { case jobs }

        init(from decoder: any Decoder) throws {
            if let batch = try? decoder.container(keyedBy: Keys.self), batch.contains(.jobs) {
                self = .batch(try batch.decode([WorkerJob].self, forKey: .jobs))
            } else {
                self = .single(try WorkerJob(from: decoder))
            }
        }
    }

    func register(on router: Router) {
        router.post("/v1/jobs") { request, _ in
            let jobs: [WorkerJob]
            switch try JSONBody.decode(Submission.self, from: request) {
            case .single(let job): jobs = [job]
            case .batch(let batch): jobs = batch
            }
            guard jobs.count <= maxBatch else { throw HTTPError.invalidField("jobs", "at most \(maxBatch) per batch") }
            for (i, job) in jobs.enumerated() where !abilities.contains(job.kind) {
                throw HTTPError.invalidField(jobs.count == 1 ? "kind" : "jobs[\(i)].kind", "this worker does not do \(job.kind)")
            }
            guard gpu.accept(jobs.map { .init(attemptID: $0.attemptID, params: $0.params, callbackURL: $0.callbackURL) }) else {
                throw HTTPError(.rateLimited, detail: "worker full", headers: [.retryAfter: "1"])
            }
            return try .json(["accepted": true], status: .accepted)
        }
        router.get("/v1/jobs/{attempt_id}") { request, _ in
            guard let job = gpu.job(try request.parameters.require("attempt_id")) else { throw HTTPError.notFound() }
            return try .json(JobStatus(status: job.status.rawValue, progress: job.progress))
        }
        router.post("/v1/jobs/{attempt_id}/cancel") { request, _ in
            guard gpu.cancel(try request.parameters.require("attempt_id")) else { throw HTTPError.notFound() }
            return try .json(["canceled": true])
        }
        router.get("/v1/health") { _, _ in
            try .json(Health(busy: gpu.busyRatio, modelsLoaded: gpu.loadedModels, abilities: abilities))
        }
    }

    struct JobStatus: Encodable {
        var status: String
        var progress: Double
    }

    struct Health: Encodable {
        var busy: Double
        var modelsLoaded: [String]
        var abilities: [String]

        enum CodingKeys: String, CodingKey {
            case busy, abilities
            case modelsLoaded = "models_loaded"
        }
    }
}

/// Requires the shared worker token on every route.
struct TokenFilter: Filter {
    let token: [UInt8]

    func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        let offered = request.head.headerFields[.authorization].map { Array($0.utf8.dropFirst("Bearer ".count)) } ?? []
        guard Digest.equal(offered, token) else { throw HTTPError(.unauthenticated, detail: "worker token required") }
        return try await next(request, context)
    }
}
