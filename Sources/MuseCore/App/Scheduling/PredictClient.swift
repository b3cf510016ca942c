import Foundation

/// A generation job as a backend receives it: the attempt, the unified params, where to call back.
public struct PredictJob: Sendable {
    public var attemptID: String
    public var params: GenerationParams
    public var callbackURL: String
    public var deadline: Date
}

/// The seam between Muse and the GPU side: submit, query, cancel, in the unified format.
/// Each implementation converts to its backend's wire format.
public protocol PredictClient: Sendable {
    /// Hands the job to `workerURL`; throws if the worker did not accept it.
    func submit(_ job: PredictJob, workerURL: String) async throws
    func cancel(attemptID: String, workerURL: String) async throws
}
