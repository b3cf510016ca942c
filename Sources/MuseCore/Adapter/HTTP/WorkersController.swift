import Foundation
import MuseHTTP
import NIOCore

/// `/internal/v1/…`: the server's side of the worker protocol (registration, heartbeats,
/// progress and result callbacks). Guarded by `WorkerTokenFilter`.
public struct WorkersController: Sendable {
    let registry: WorkerRegistry
    let store: any DispatchStore
    let images: any BlobStore
    let scheduler: Scheduler
    let metrics: PipelineMetrics

    public init(registry: WorkerRegistry, store: any DispatchStore, images: any BlobStore, scheduler: Scheduler, metrics: PipelineMetrics) {
        self.metrics = metrics
        self.registry = registry
        self.store = store
        self.images = images
        self.scheduler = scheduler
    }

    private static let ok = ByteBuffer(string: #"{"ok":true}"#)

    public func register(on router: Router) {
        router.post("/internal/v1/workers") { request, _ in
            registry.register(try JSONBody.decode(WorkerRegistration.self, from: request))
            scheduler.wakeUp()
            return .bytes(Self.ok, contentType: "application/json")
        }
        router.post("/internal/v1/workers/{worker_id}/heartbeat") { request, _ in
            let beat = try JSONBody.decode(WorkerHeartbeat.self, from: request)
            guard registry.heartbeat(try request.parameters.require("worker_id"), beat) else {
                throw HTTPError.notFound("unknown worker: register again")
            }
            return .bytes(Self.ok, contentType: "application/json")
        }
        router.delete("/internal/v1/workers/{worker_id}") { request, _ in
            registry.remove(try request.parameters.require("worker_id"))
            return .bytes(Self.ok, contentType: "application/json")
        }
        router.post("/internal/v1/attempts/{attempt_id}/progress") { request, _ in
            let body = try JSONBody.decode(WorkerProgress.self, from: request)
            _ = try await store.recordProgress(attemptID: try request.parameters.require("attempt_id"), progress: body.progress)
            return .bytes(Self.ok, contentType: "application/json")
        }
        router.post("/internal/v1/attempts/{attempt_id}/result", maxBodyBytes: 128 << 20) { request, _ in
            try await result(attemptID: try request.parameters.require("attempt_id"), try JSONBody.decode(WorkerResult.self, from: request))
            return .bytes(Self.ok, contentType: "application/json")
        }
    }

    /// At-least-once safe: a result for an attempt that is no longer current changes nothing.
    private func result(attemptID: String, _ body: WorkerResult) async throws {
        guard let attempt = try await store.currentAttempt(attemptID) else { return }
        // The slot is free whatever happens to the task (it may have been canceled meanwhile).
        defer { scheduler.slotFreed(workerID: attempt.workerID, attemptID: attemptID) }
        guard !attempt.task.status.isFinal else { return }
        switch body.status {
        case "succeeded":
            var stored: [TaskImage] = []
            for image in body.images ?? [] {
                guard let png = Data(base64Encoded: image.pngBase64) else {
                    throw HTTPError.invalidField("images[\(stored.count)].png_base64", "not base64")
                }
                let id = IDGenerator.make("img")
                try await images.put(id + ".png", [UInt8](png))
                stored.append(TaskImage(id: id, width: image.width, height: image.height, seed: image.seed))
            }
            _ = try await store.complete(attemptID: attemptID, images: stored, timings: body.timings)
        case "failed", "canceled":
            let error = body.error ?? TaskError(code: "internal", message: "the worker reported \(body.status)")
            if try await store.fail(attemptID: attemptID, error: error, timings: body.timings) != nil { metrics.failed(code: error.code) }
        default:
            throw HTTPError.invalidField("status", "must be succeeded, failed or canceled")
        }
    }
}
