import Foundation
import MuseWorkerProtocol

/// A generation job as a backend receives it: the attempt, the unified params, where to call back.
public struct PredictJob: Sendable {
    public var attemptID: String
    public var params: GenerationParams
    public var callbackURL: String
    public var deadline: Date
}

/// What a worker said to a job (or batch) it was offered.
public enum SubmitOutcome: Sendable, Equatable {
    case accepted
    /// 429: it is full; try another worker, and this one again after `retryAfter` seconds.
    case full(retryAfter: TimeInterval)
    /// No answer (refused, reset, timed out): the worker is likely gone or restarting. Not the
    /// job's fault: it goes to another worker without spending an attempt.
    case unreachable(reason: String)
}

/// The seam between Muse and the GPU side: submit, query, cancel, in the unified format.
/// Each implementation converts to its backend's wire format.
public protocol PredictClient: Sendable {
    /// Hands one job, or a batch of same-shaped jobs, to `workerURL`; throws if the worker
    /// answered but refused them for another reason than being full.
    func submit(_ jobs: [PredictJob], workerURL: String) async throws -> SubmitOutcome
    /// The worker's view of an attempt (the polling fallback); nil when it does not know it.
    func status(attemptID: String, workerURL: String) async throws -> WorkerJobStatus?
    func cancel(attemptID: String, workerURL: String) async throws
}
