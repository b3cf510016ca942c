import Foundation
import MuseHTTP
import NIOCore

/// `/internal/v1/…`: the server's side of the worker protocol (registration, heartbeats,
/// progress and result callbacks). Guarded by `WorkerTokenFilter`.
public struct WorkersController: Sendable {
    let registry: WorkerRegistry
    let scheduler: Scheduler

    public init(registry: WorkerRegistry, scheduler: Scheduler) {
        self.registry = registry
        self.scheduler = scheduler
    }

    private static let ok = ByteBuffer(string: #"{"ok":true}"#)

    public func register(on router: Router) {
        router.post("/internal/v1/workers") { request, _ in
            let registration = try JSONBody.decode(WorkerRegistration.self, from: request)
            try registration.check()
            registry.register(registration)
            scheduler.wakeUp()
            return .bytes(Self.ok, contentType: "application/json")
        }
        router.post("/internal/v1/workers/{worker_id}/heartbeat") { request, _ in
            let beat = try JSONBody.decode(WorkerHeartbeat.self, from: request)
            try beat.check()
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
            try body.check()
            try await scheduler.progress(attemptID: try request.parameters.require("attempt_id"), body)
            return .bytes(Self.ok, contentType: "application/json")
        }
        router.post("/internal/v1/attempts/{attempt_id}/result", maxBodyBytes: 128 << 20) { request, _ in
            let body = try JSONBody.decode(WorkerResult.self, from: request)
            // Checked before the attempt is looked up: a malformed result is a 400 even for an unknown attempt.
            try body.check()
            try await scheduler.result(attemptID: try request.parameters.require("attempt_id"), body)
            return .bytes(Self.ok, contentType: "application/json")
        }
    }
}
