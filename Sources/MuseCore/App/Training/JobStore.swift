import Foundation
import MuseWorkerProtocol

/// Where crop, tag and training jobs and their event logs live. Like tasks, every change a worker
/// causes is compare-and-set on the job's current attempt: news of an attempt that is no longer
/// current (requeued, canceled) changes nothing. Each change appends its event in the same
/// transaction and then wakes the job's `/events` streams.
public protocol JobStore: Sendable {
    /// Saves a queued job and its first event.
    func create(_ job: TrainingJob) async throws
    func job(id: String, tenant: String) async throws -> TrainingJob?
    func job(attemptID: String) async throws -> TrainingJob?
    /// A job whoever owns it (for worker routes).
    func job(id: String) async throws -> TrainingJob?
    /// The succeeded training whose LoRA has this catalogue key (what a worker fetches to apply it).
    func job(outputModelKey: String) async throws -> TrainingJob?
    /// Jobs of the tenant that are not final.
    func unfinished(tenant: String) async throws -> Int
    /// Whether a job that is not final uses the dataset.
    func usesDataset(_ datasetID: String) async throws -> Bool
    /// The tenant's jobs of `kinds`, newest first; `before` is the last id of the previous page.
    func list(tenant: String, kinds: Set<JobKind>, limit: Int, before: String?) async throws -> [TrainingJob]
    /// Takes the oldest queued job of `kinds` that the worker may run, under a new attempt: a
    /// shared job when `reservedFor` is empty, else a private job one of whose owners it names.
    func claim(kinds: Set<JobKind>, workerID: String, reservedFor: Set<String>, attemptID: String, at: Date) async throws -> TrainingJob?
    /// The worker never took the attempt: queued again, the try not counted.
    func unclaim(attemptID: String) async throws -> TrainingJob?
    /// Progress of the current attempt (`dispatched` becomes `running`); a step below the one
    /// recorded does not move it (or its loss) back.
    func progress(attemptID: String, progress: Double, step: Int?, totalSteps: Int?, loss: Double?, at: Date) async throws -> TrainingJob?
    /// Records the current attempt's checkpoint; returns the one it replaces (its blob is the
    /// caller's to delete), or nil with `saved` false when the attempt is not current.
    func saveCheckpoint(attemptID: String, _ checkpoint: JobCheckpoint) async throws -> (saved: Bool, replaced: JobCheckpoint?)
    /// Ends the current attempt with a final status.
    func finish(attemptID: String, status: JobStatus, outputModelKey: String?, error: TaskError?, at: Date) async throws -> TrainingJob?
    /// The current attempt is lost: queued again (keeping its checkpoint), or failed with `error`
    /// once `maxAttempts` tries were spent.
    func requeue(attemptID: String, maxAttempts: Int, error: TaskError, at: Date) async throws -> TrainingJob?
    /// Cancels a job that is not final; the attempt it stopped, if one was out, and its worker.
    func cancel(id: String, tenant: String, at: Date) async throws -> (job: TrainingJob, stopped: (attemptID: String, workerID: String)?)?
    /// Jobs out on workers (`dispatched` or `running`).
    func active() async throws -> [TrainingJob]
    /// Jobs not yet final, by kind and status (the gauges).
    func census() async throws -> [JobKind: [JobStatus: Int]]
    /// The job's events after `seq`, oldest first.
    func events(jobID: String, after seq: Int64, limit: Int) async throws -> [JobEvent]
}
