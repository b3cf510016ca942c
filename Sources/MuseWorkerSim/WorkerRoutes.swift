import Foundation
import MuseHTTP
import MuseJSON
import MuseWorkerProtocol
import NIOCore

/// The worker's own routes (docs/WORKER-PROTOCOL.md, Jobs): take jobs, report on them, cancel, health.
struct WorkerRoutes: Sendable {
    let gpu: SimulatedGPU
    let trainer: SimulatedTrainer
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

    func register(on routes: RouteGroup) {
        routes.post("/v1/jobs") { request, _ in
            let body = try JSONBody.value(from: request)
            if case .string(let kind)? = body[member: "kind"], ["crop", "tag", "train"].contains(kind) {
                guard abilities.contains(kind) else { throw HTTPError.invalidField("kind", "this worker does not do \(kind)") }
                guard trainer.accept(try JSON.decode(WorkerDatasetJob.self, from: body)) else {
                    throw HTTPError(.rateLimited, detail: "training slots full", headers: [.retryAfter: "1"])
                }
                return try .json(["accepted": true], status: .accepted)
            }
            let jobs: [WorkerJob]
            switch try JSON.decode(Submission.self, from: body) {
            case .single(let job): jobs = [job]
            case .batch(let batch): jobs = batch
            }
            guard jobs.count <= maxBatch else { throw HTTPError.invalidField("jobs", "at most \(maxBatch) per batch") }
            for (i, job) in jobs.enumerated() where !abilities.contains(job.kind) {
                throw HTTPError.invalidField(jobs.count == 1 ? "kind" : "jobs[\(i)].kind", "this worker does not do \(job.kind)")
            }
            if jobs.count > 1, Set(jobs.map(\.params.batchKey)).count > 1 || jobs[0].params.batchKey == nil {
                throw HTTPError.invalidField("jobs", "a batch takes jobs of one model, size, step count and LoRA set")
            }
            let deadlines = try jobs.enumerated().map { i, job in
                try job.deadline.map { text in
                    guard let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) else {
                        throw HTTPError.invalidField(jobs.count == 1 ? "deadline" : "jobs[\(i)].deadline", "must be an RFC 3339 time")
                    }
                    return date
                }
            }
            let units = zip(jobs, deadlines).map { job, deadline in
                SimulatedGPU.Job(attemptID: job.attemptID, params: job.params, callbackURL: job.callbackURL, deadline: deadline)
            }
            guard gpu.accept(units) else {
                throw HTTPError(.rateLimited, detail: "worker full", headers: [.retryAfter: "1"])
            }
            return try .json(["accepted": true], status: .accepted)
        }
        routes.get("/v1/jobs/{attempt_id}") { request, _ in
            let id = try request.parameters.require("attempt_id")
            if let (status, progress) = trainer.status(id) { return try .json(WorkerJobStatus(status: status, progress: progress)) }
            guard let job = gpu.job(id) else { throw HTTPError.notFound() }
            return try .json(WorkerJobStatus(status: job.status, progress: job.progress, result: job.result))
        }
        routes.post("/v1/jobs/{attempt_id}/cancel") { request, _ in
            let id = try request.parameters.require("attempt_id")
            guard trainer.cancel(id) || gpu.cancel(id) else { throw HTTPError.notFound() }
            return try .json(["canceled": true])
        }
        routes.get("/v1/health") { _, _ in
            try .json(Health(busy: gpu.busyRatio, modelsLoaded: gpu.loadedModels, abilities: abilities))
        }
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
