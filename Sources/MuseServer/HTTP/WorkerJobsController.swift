import Foundation
import MuseCore
import MuseHTTP
import MuseInfra
import MuseJSON
import MuseWorkerProtocol
import NIOCore

/// `/internal/v1/…` for crop, tag and training jobs (worker token): the dataset images a job
/// names, its progress and result, a training's checkpoints and LoRA, a crop's images.
public struct WorkerJobsController: Sendable {
    let intake: JobIntake
    let limits: DatasetLimits
    /// The largest checkpoint or LoRA a worker may upload.
    let maxArtifactBytes: Int

    public init(
        intake: JobIntake, limits: DatasetLimits,
        maxArtifactBytes: Int
    ) {
        self.intake = intake
        self.limits = limits
        self.maxArtifactBytes = maxArtifactBytes
    }

    private static let ok = ByteBuffer(string: #"{"ok":true}"#)

    private static func attemptID(_ request: Request) throws -> String {
        let id = try request.parameters.require("attempt_id")
        guard IDGenerator.isID(id, prefix: "att") else { throw HTTPError.invalidField("attempt_id", "not an attempt id (att_…)") }
        return id
    }

    private static func id(_ request: Request, _ name: String, prefix: String) throws -> String {
        let id = try request.parameters.require(name)
        guard IDGenerator.isID(id, prefix: prefix) else { throw HTTPError.invalidField(name, "not an id of this server (\(prefix)_…)") }
        return id
    }

    public func register(on routes: RouteGroup) {
        routes.get("/internal/v1/datasets/{id}/images/{image_id}") { request, _ in
            let (image, bytes) = try await intake.datasetImage(
                datasetID: try Self.id(request, "id", prefix: "ds"), imageID: try Self.id(request, "image_id", prefix: "img"))
            return .blob(bytes, contentType: image.format.contentType)
        }
        routes.get("/internal/v1/trainings/{id}/checkpoint") { request, _ in
            .blob(try await intake.checkpoint(jobID: try Self.id(request, "id", prefix: "trn")), contentType: "application/octet-stream")
        }
        routes.get("/internal/v1/trainings/{id}/artifact") { request, _ in
            .blob(try await intake.artifact(jobID: try Self.id(request, "id", prefix: "trn")), contentType: "application/octet-stream")
        }
        routes.post("/internal/v1/job-attempts/{attempt_id}/progress") { request, _ in
            let body = try JSONBody.decode(WorkerProgress.self, from: request)
            try body.check()
            try await intake.progress(attemptID: try Self.attemptID(request), body)
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.post("/internal/v1/job-attempts/{attempt_id}/result") { request, _ in
            let result = try JSONBody.decode(WorkerJobResult.self, from: request)
            try result.check()
            try await intake.result(attemptID: try Self.attemptID(request), result)
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.put("/internal/v1/job-attempts/{attempt_id}/checkpoint", maxBodyBytes: maxArtifactBytes, streaming: true) { request, _ in
            guard let raw = request.query["step"], let step = Int(raw), (0...1_000_000).contains(step) else {
                throw HTTPError.invalidField("step", "must be an integer from 0 to 1000000")
            }
            try await intake.checkpoint(attemptID: try Self.attemptID(request), step: step, chunks: request.bodyChunks)
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.put("/internal/v1/job-attempts/{attempt_id}/artifact", maxBodyBytes: maxArtifactBytes, streaming: true) { request, _ in
            try await intake.artifact(attemptID: try Self.attemptID(request), chunks: request.bodyChunks)
            return .bytes(Self.ok, contentType: "application/json")
        }
        routes.put("/internal/v1/job-attempts/{attempt_id}/images/{image_id}", maxBodyBytes: limits.maxImageBytes, streaming: true) { request, _ in
            try await intake.croppedImage(
                attemptID: try Self.attemptID(request), imageID: try Self.id(request, "image_id", prefix: "img"),
                declaredType: try DatasetsController.imageType(request.head.headerFields[.contentType]), chunks: request.bodyChunks)
            return .bytes(Self.ok, contentType: "application/json")
        }
    }
}
