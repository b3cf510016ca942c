import Foundation
import MuseWorkerProtocol

/// One try of a task on one worker.
public struct Attempt: Sendable, Equatable {
    public var id: String
    public var task: GenerationTask
    public var workerID: String

    public init(id: String, task: GenerationTask, workerID: String) {
        self.id = id
        self.task = task
        self.workerID = workerID
    }
}

/// The scheduler's side of the task store: claims, leases, results. Every change is
/// compare-and-set on the task's current attempt, so a late or repeated callback for an
/// attempt that is no longer current changes nothing.
public protocol DispatchStore: Sendable {
    /// Claims the next queued task for a worker (online first, then a model it has loaded,
    /// then the oldest) with `TaskTransition.claim`: a new attempt and lease. With `limit` > 1,
    /// up to `limit - 1` more queued tasks of the same lane and batch key come along (one batch).
    /// A task waiting since before `agedBefore` for a model in none of `loadedAnywhere` (so no
    /// worker would take it by affinity) goes first whatever its model: affinity never starves one.
    /// Only tasks whose ability is in `abilities` are claimed.
    func claimNext(
        workerID: String, abilities: Set<Ability>, preferredModels: [String], loadedAnywhere: Set<String>, agedBefore: Date, leaseUntil: Date,
        limit: Int
    ) async throws -> [Attempt]
    /// Applies `transition` (decided by `TaskTransition.apply`) to the task whose current attempt
    /// is `attemptID` and writes what it produced, in one transaction; nil when the attempt is
    /// no longer current or the task is not in a status the transition starts from. `check` sees
    /// the changed task inside the transaction; what it throws undoes the change and is rethrown.
    func apply(_ transition: TaskTransition, attemptID: String, check: (@Sendable (GenerationTask) throws -> Void)?) async throws -> GenerationTask?
    /// Current attempts held by a worker.
    func attempts(workerID: String) async throws -> [String]
    /// Attempts whose lease ran out, and (unless `liveWorkers` is nil) attempts held by workers
    /// not in `liveWorkers`: after a restart, those whose worker never came back.
    func orphanedAttempts(liveWorkers: Set<String>?, now: Date) async throws -> [String]
    /// Releases up to `limit` off-peak tasks (oldest first: `TaskTransition.release`); returns how many.
    func releaseScheduled(limit: Int) async throws -> Int
    func count(status: TaskStatus) async throws -> Int
    /// Tasks by status, and queued tasks by lane, for the gauges.
    func census() async throws -> (byStatus: [TaskStatus: Int], queuedByLane: [Priority: Int])
}

extension DispatchStore {
    public func apply(_ transition: TaskTransition, attemptID: String) async throws -> GenerationTask? {
        try await apply(transition, attemptID: attemptID, check: nil)
    }
}
