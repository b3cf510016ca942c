import Foundation
import MuseJSON
import MuseWorkerProtocol

/// What a dataset or training job asks a worker to do (its ability of the same name).
public enum JobKind: String, Sendable, CaseIterable {
    case crop, tag, train

    public var ability: Ability {
        switch self {
        case .crop: .crop
        case .tag: .tag
        case .train: .train
        }
    }

    /// Trainings are `trn_…`; crop and tag jobs `job_…`.
    public var idPrefix: String { self == .train ? "trn" : "job" }
}

/// Where a job stands. `queued` again after a lost worker or a restart, from its last checkpoint.
public enum JobStatus: String, Sendable, CaseIterable {
    case queued, dispatched, running, succeeded, failed, canceled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .canceled }
}

/// Which workers may run a training: any of the common pool, or only those reserved for the
/// caller (config `training.reserved_workers`).
public enum JobResources: String, Sendable, CaseIterable {
    case shared, `private`
}

/// The last checkpoint a worker stored for a training: where it resumes after losing its worker.
public struct JobCheckpoint: Sendable, Equatable {
    public let step: Int
    public let blobKey: String

    public init(step: Int, blobKey: String) {
        self.step = step
        self.blobKey = blobKey
    }
}

/// A crop, tag or training job of a tenant's dataset, run on one worker at a time.
public struct TrainingJob: Sendable, Equatable {
    public let id: String
    public let tenant: String
    /// Whose reserved workers may run a `private` job: the tenant and its teams when it was
    /// submitted (stored apart from the job's row: lists leave it empty).
    public var owners: Set<String>
    public let kind: JobKind
    public var status: JobStatus
    public let datasetID: String
    /// The kind's parameters as the worker receives them (less the images, added at dispatch).
    public let params: JSONValue
    public let resources: JobResources
    public var progress: Double
    public var step: Int?
    public var totalSteps: Int?
    public var loss: Double?
    public var attemptID: String?
    public var workerID: String?
    /// Tries started; a lost worker's try counts, a refused push does not.
    public var attempts: Int
    public var checkpoint: JobCheckpoint?
    /// The LoRA a finished training made (`lora` in the catalogue).
    public var outputModelKey: String?
    public var error: TaskError?
    /// Where the final state is POSTed (a training's `webhook_url`).
    public var webhookURL: String?
    public let createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(
        id: String, tenant: String, owners: Set<String>, kind: JobKind, datasetID: String, params: JSONValue, resources: JobResources = .shared,
        createdAt: Date
    ) {
        self.id = id
        self.tenant = tenant
        self.owners = owners
        self.kind = kind
        self.status = .queued
        self.datasetID = datasetID
        self.params = params
        self.resources = resources
        self.progress = 0
        self.attempts = 0
        self.createdAt = createdAt
    }
}

/// One change of a job, kept in order: what `/events` streams replay after `Last-Event-ID`, and
/// the loss curve's points.
public struct JobEvent: Sendable, Equatable {
    public let seq: Int64
    public let jobID: String
    /// `status` (a new status) or `progress`.
    public let type: String
    public let status: JobStatus
    public let progress: Double
    public let step: Int?
    public let totalSteps: Int?
    public let loss: Double?
    public let at: Date

    public init(seq: Int64, jobID: String, type: String, status: JobStatus, progress: Double, step: Int?, totalSteps: Int?, loss: Double?, at: Date) {
        self.seq = seq
        self.jobID = jobID
        self.type = type
        self.status = status
        self.progress = progress
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
        self.at = at
    }
}
