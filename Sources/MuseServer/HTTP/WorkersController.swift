import Foundation
import MuseCore
import MuseHTTP
import MuseInfra
import MuseJSON
import MuseWorkerProtocol
import NIOCore

/// `/internal/v1/…`: the server's side of the worker protocol (registration, heartbeats,
/// progress and result callbacks). Guarded by the worker token (`BearerTokenFilter`).
public struct WorkersController: Sendable {
    let registry: WorkerRegistry
    let scheduler: Scheduler
    /// Where a worker may be: jobs and the worker token go to the URL it registers.
    let urls: WorkerURLPolicy

    public init(registry: WorkerRegistry, scheduler: Scheduler, urls: WorkerURLPolicy) {
        self.registry = registry
        self.scheduler = scheduler
        self.urls = urls
    }

    private static let ok = ByteBuffer(string: #"{"ok":true}"#)
    /// Results smaller than this are handled on the event loop (a few hundred microseconds at most).
    static let inPlaceResultBytes = 256 << 10

    private static func workerID(_ request: Request) throws -> String {
        let id = try request.parameters.require("worker_id")
        guard WorkerRegistration.isWorkerID(id) else { throw HTTPError.invalidField("worker_id", WorkerRegistration.workerIDRule) }
        return id
    }

    /// Ids this server made (`att_…`); news of an unknown but well-formed one is ignored (at-least-once).
    private static func attemptID(_ request: Request) throws -> String {
        let id = try request.parameters.require("attempt_id")
        guard IDGenerator.isID(id, prefix: "att") else { throw HTTPError.invalidField("attempt_id", "not an attempt id (att_…)") }
        return id
    }

    public func register(on routes: RouteGroup) {
        routes.post("/internal/v1/workers") { request, _ in
            let registration = try JSONBody.decode(WorkerRegistration.self, from: request)
            try registration.check()
            guard urls.allows(registration.url) else {
                throw HTTPError(
                    .permissionDenied, detail: "url: this host is not in worker.allowed_hosts", errors: [FieldError(field: "url", message: "host not allowed")])
            }
            await scheduler.registered(registration)
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.post("/internal/v1/workers/{worker_id}/heartbeat") { request, _ in
            let beat = try JSONBody.decode(WorkerHeartbeat.self, from: request)
            try beat.check()
            guard registry.heartbeat(try Self.workerID(request), beat) else {
                throw HTTPError.notFound("unknown worker: register again")
            }
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.delete("/internal/v1/workers/{worker_id}") { request, _ in
            scheduler.left(try Self.workerID(request))
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.post("/internal/v1/attempts/{attempt_id}/progress") { request, _ in
            let body = try JSONBody.decode(WorkerProgress.self, from: request)
            try body.check()
            try await scheduler.results.progress(attemptID: try Self.attemptID(request), body)
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.post("/internal/v1/attempts/{attempt_id}/result", maxBodyBytes: 128 << 20) { request, _ in
            let attemptID = try Self.attemptID(request)
            // A large result takes a while to parse, check and decode (an 85 MiB one, seconds):
            // off the event loop, so the connections sharing it (heartbeats among them) are not
            // held up. A small one is done in place: the hop would cost more than the work.
            if request.body.readableBytes < Self.inPlaceResultBytes {
                try await scheduler.results.result(attemptID: attemptID, try JSONBody.decode(WorkerResult.self, from: request))
            } else {
                try await Task.detached { [scheduler] in
                    try await scheduler.results.result(attemptID: attemptID, try JSONBody.decode(WorkerResult.self, from: request))
                }.value
            }
            return .bytes(Self.ok, contentType: "application/json")
        }
    }
}
