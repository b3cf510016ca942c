import Foundation
import MuseWorkerProtocol

/// A change asked of a task, by the scheduler, a worker's report or its owner. `apply` is the one
/// place that decides what the change makes of the task, and what it produces (`TaskChange`):
/// a store only finds the task, calls it, and writes the result in one transaction.
public enum TaskTransition: Sendable {
    /// A worker takes the queued task: a new attempt, held until `leaseUntil`.
    case claim(workerID: String, leaseUntil: Date)
    /// The worker could not take it after all (full, unreachable): queued again, the attempt unspent.
    case unclaim
    case progress(Double)
    case succeed(images: [TaskImage], timings: WorkerTimings?)
    case fail(TaskError, timings: WorkerTimings?)
    /// The attempt was lost (worker gone, lease over): queued again, or failed after `maxAttempts`.
    case requeue(reason: String, maxAttempts: Int)
    /// Off-peak work whose time has come: scheduled → queued.
    case release
    /// The owner's cancel.
    case cancel

    /// The statuses the transition starts from; from any other it does nothing (compare-and-set).
    public var from: Set<TaskStatus> {
        switch self {
        case .claim: [.queued]
        case .unclaim: [.dispatched]
        case .progress, .succeed, .fail, .requeue: [.dispatched, .running]
        case .release: [.scheduled]
        case .cancel: [.queued, .scheduled, .dispatched, .running]
        }
    }

    /// What the transition makes of `task` at `now`; nil when the task is not in a status it starts from.
    public func apply(to task: GenerationTask, now: Date) -> TaskChange? {
        guard from.contains(task.status) else { return nil }
        var next = task
        var timings: WorkerTimings?
        switch self {
        case .claim(let workerID, let leaseUntil):
            next.status = .dispatched
            next.attemptID = IDGenerator.make("att", at: now)
            next.workerID = workerID
            next.leaseExpiresAt = leaseUntil
            next.attempts += 1
            next.startedAt = task.startedAt ?? now
        case .unclaim:
            next.status = .queued
            next.attempts = max(0, task.attempts - 1)
            next.releaseAttempt()
        case .progress(let progress):
            next.status = .running
            next.progress = max(task.progress, min(1, max(0, progress)))
        case .succeed(let images, let reported):
            next.status = .succeeded
            next.progress = 1
            next.images = images
            next.finishedAt = now
            next.leaseExpiresAt = nil
            timings = reported
        case .fail(let error, let reported):
            next.status = .failed
            next.error = error
            next.finishedAt = now
            next.leaseExpiresAt = nil
            timings = reported
        case .requeue(let reason, let maxAttempts):
            next.progress = 0
            next.releaseAttempt()
            if task.attempts >= maxAttempts {
                next.status = .failed
                next.error = TaskError(code: "worker_lost", message: "\(reason); gave up after \(maxAttempts) attempts")
                next.finishedAt = now
            } else {
                next.status = .queued
                next.finishedAt = nil
            }
        case .release:
            next.status = .queued
        case .cancel:
            next.status = .canceled
            next.finishedAt = now
            next.leaseExpiresAt = nil
        }
        return TaskChange(from: task, to: next, timings: timings, now: now)
    }
}

/// What a transition produced: the task after it, the event its streams see, and the webhook
/// delivery of a final state. A store writes exactly this, all of it or nothing.
public struct TaskChange: Sendable {
    public var task: GenerationTask
    /// The event type (`TaskEvent.type`); nil when nothing a client sees changed.
    public var event: String?
    /// Set when the task reached a final state and has a `webhook_url`.
    public var delivery: WebhookDelivery?
    /// The worker's timings, kept with a finished attempt.
    public var timings: WorkerTimings?
    /// Images first recorded by this change (their owner is the task's tenant).
    public var newImages: [TaskImage]

    /// The change from `before` (nil: the task is new) to `after`.
    public init(from before: GenerationTask?, to after: GenerationTask, timings: WorkerTimings? = nil, now: Date) {
        task = after
        event = TaskEvent.type(from: before?.status, progress: before?.progress, to: after)
        self.timings = timings
        newImages = after.images.filter { image in !(before?.images.contains { $0.id == image.id } ?? false) }
        // The final state goes to the webhook with the change itself: a crash cannot lose it.
        if after.status.isFinal, event == after.status.rawValue, let url = after.params.webhookURL {
            delivery = WebhookDelivery(
                id: IDGenerator.make("whd", at: now), tenant: after.tenant, taskID: after.id, url: url, status: .pending, attempts: [], tries: 0,
                nextAttemptAt: now, createdAt: now)
        }
    }
}

extension GenerationTask {
    /// No attempt holds the task any more.
    fileprivate mutating func releaseAttempt() {
        attemptID = nil
        workerID = nil
        leaseExpiresAt = nil
    }
}
