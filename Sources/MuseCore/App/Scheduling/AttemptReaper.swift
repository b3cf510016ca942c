import Foundation
import Logging

/// Takes attempts back from workers that are gone and from leases that ran out: queued again,
/// or failed after `maxAttempts` (`TaskTransition.requeue`).
struct AttemptReaper: Sendable {
    let store: any DispatchStore
    let registry: WorkerRegistry
    let client: any PredictClient
    let trigger: DispatchTrigger
    let maxAttempts: Int
    let metrics: PipelineMetrics
    let logger: Logger
    private let startedAt = Date()

    init(
        store: any DispatchStore, registry: WorkerRegistry, client: any PredictClient, trigger: DispatchTrigger, maxAttempts: Int,
        metrics: PipelineMetrics, logger: Logger
    ) {
        self.store = store
        self.registry = registry
        self.client = client
        self.trigger = trigger
        self.maxAttempts = maxAttempts
        self.metrics = metrics
        self.logger = logger
    }

    /// Workers silent for three heartbeats lose their attempts. After a restart, attempts of
    /// workers that did not come back within that time, and attempts whose lease ran out, go the same way.
    func reap() async {
        for workerID in registry.removeLost() {
            logger.warning("worker lost", metadata: ["worker": "\(workerID)"])
            metrics.workerLeft(workerID)
            for attemptID in (try? await store.attempts(workerID: workerID)) ?? [] {
                await requeue(attemptID, reason: "worker \(workerID) stopped heart-beating")
            }
        }
        // Right after a restart workers have not re-registered yet: judge by leases alone until they had time to.
        let live = Date().timeIntervalSince(startedAt) > registry.lostAfter ? Set(registry.all.map(\.registration.workerID)) : nil
        for attemptID in (try? await store.orphanedAttempts(liveWorkers: live, now: Date())) ?? [] {
            logger.warning("attempt orphaned", metadata: ["attempt": "\(attemptID)"])
            await requeue(attemptID, reason: "its worker is gone or its lease ran out")
            // A live worker past the deadline: stop it there and free its slot.
            if let worker = registry.forget(attemptID: attemptID) {
                try? await client.cancel(attemptID: attemptID, workerURL: worker.registration.url)
                trigger.pull()
            }
        }
    }

    func requeue(_ attemptID: String, reason: String) async {
        let task = try? await store.apply(.requeue(reason: reason, maxAttempts: maxAttempts), attemptID: attemptID)
        if task?.status == .failed { metrics.failed(code: "worker_lost") }
    }
}
