import Foundation
import MuseWorkerProtocol

/// The seam beside `PredictClient` for crop, tag and training jobs: the worker pool's
/// implementation speaks the worker protocol; a managed training endpoint would be another.
public protocol TrainClient: Sendable {
    /// Hands a job to `workerURL`; throws when the worker answered but refused it for another
    /// reason than being full.
    func submit(_ job: WorkerDatasetJob, workerURL: String) async throws -> SubmitOutcome
    /// Where the attempt stands on the worker; nil when the worker does not know it.
    func status(attemptID: String, workerURL: String) async throws -> AttemptStatus?
    func cancel(attemptID: String, workerURL: String) async throws
}
