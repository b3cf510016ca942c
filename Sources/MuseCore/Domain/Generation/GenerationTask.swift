import Foundation
import MuseJSON
import MuseWorkerProtocol

/// Where a task is in its life. `scheduled` is off-peak work before its window opens.
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case queued, scheduled, dispatched, running, succeeded, failed, canceled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .canceled }

    /// The transitions docs/ARCHITECTURE.md allows (`TaskTransition` makes only these).
    public func canMove(to next: TaskStatus) -> Bool {
        switch (self, next) {
        case (.scheduled, .queued), (.queued, .dispatched), (.dispatched, .running): true
        // A lost lease puts the attempt back in the queue.
        case (.dispatched, .queued), (.running, .queued): true
        case (.running, .succeeded), (.dispatched, .succeeded): true
        case (let from, .failed) where !from.isFinal: true
        case (let from, .canceled) where !from.isFinal: true
        default: false
        }
    }
}

/// One generated image of a task.
public struct TaskImage: Sendable, Codable, Equatable {
    public var id: String
    public var width: Int
    public var height: Int
    public var seed: Int64

    public init(id: String, width: Int, height: Int, seed: Int64) {
        self.id = id
        self.width = width
        self.height = height
        self.seed = seed
    }
}

/// A generation task: resolved params, owner, state, attempts, results.
public struct GenerationTask: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var status: TaskStatus
    public var progress: Double
    public var params: GenerationParams
    public var images: [TaskImage]
    public var error: TaskError?
    public var attempts: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The current attempt and the worker holding it, while dispatched or running.
    public var attemptID: String?
    public var workerID: String?
    /// When the current attempt's lease runs out: then it is queued again.
    public var leaseExpiresAt: Date?
    /// The preset version it was made from, if any.
    public var preset: PresetRef?

    public init(id: String, tenant: String, params: GenerationParams, createdAt: Date) {
        self.id = id
        self.tenant = tenant
        self.status = params.schedule == .offpeak ? .scheduled : .queued
        self.progress = 0
        self.params = params
        self.images = []
        self.error = nil
        self.attempts = 0
        self.createdAt = createdAt
    }

    /// The lane a queued task waits in: online work is served first.
    public var lane: Priority { params.priority }
}
