import Foundation
import Logging
import MuseWorkerProtocol

/// Pairs free worker slots with queued tasks until one runs out: least-busy worker first, the
/// store picks its task (online first, model affinity), and the job goes out beside the loop.
struct Dispatcher: Sendable {
    let store: any DispatchStore
    let registry: WorkerRegistry
    let client: any PredictClient
    let reaper: AttemptReaper
    let trigger: DispatchTrigger
    /// Affinity switches, read each round (the dynamic config).
    let settings: LiveSettings
    /// How long an attempt may run (the job's deadline); then it is queued again.
    let lease: TimeInterval
    let callbackBaseURL: String
    let metrics: PipelineMetrics
    let logger: Logger

    /// One round. A worker with `max_batch` > 1 gets same-shaped tasks (model, size, LoRAs) together in one call.
    func round() async {
        let current = settings.current
        // Workers that found nothing they can run this round (they lack an ability queued work needs).
        var idle: Set<String> = []
        while let worker = registry.reserve(anyOf: Ability.generation, excluding: idle) {
            let id = worker.registration.workerID
            let attempts: [Attempt]
            do {
                attempts = try await store.claimNext(
                    workerID: id, abilities: worker.abilities, preferredModels: current.modelAffinity ? worker.modelsLoaded : [],
                    loadedAnywhere: current.modelAffinity ? registry.modelsLoaded() : [],
                    agedBefore: Date().addingTimeInterval(-current.maxAffinityWait), leaseUntil: Date().addingTimeInterval(lease),
                    limit: max(1, worker.registration.maxBatch)
                )
            } catch {
                logger.error("claiming a task failed", metadata: ["error": "\(error)"])
                attempts = []
            }
            guard let first = attempts.first else {
                registry.unreserve(id)
                // A worker that can run anything found nothing: the queue is empty for everyone.
                if Ability.generation.isSubset(of: worker.abilities) { return }
                idle.insert(id)
                continue
            }
            registry.bind(id, attemptIDs: attempts.map(\.id))
            let now = Date()
            for (i, attempt) in attempts.enumerated() {
                metrics.dispatched(
                    lane: attempt.task.lane, after: now.timeIntervalSince(attempt.task.createdAt),
                    switchedModel: i == 0 && !worker.modelsLoaded.contains(first.task.params.model)
                )
            }
            registry.assumeLoaded(id, model: first.task.params.model)
            // The push is an HTTP call: run it beside the loop so one slow worker delays nobody.
            Task { await push(attempts, to: worker) }
        }
    }

    private func push(_ attempts: [Attempt], to worker: WorkerRegistry.Worker) async {
        let deadline = Date().addingTimeInterval(lease)
        let jobs = attempts.map { attempt in
            PredictJob(
                attemptID: attempt.id, params: attempt.task.params, callbackURL: "\(callbackBaseURL)/internal/v1/attempts/\(attempt.id)", deadline: deadline)
        }
        let workerID = worker.registration.workerID
        do {
            switch try await client.submit(jobs, workerURL: worker.registration.url) {
            case .accepted:
                metrics.workerCall(outcome: "accepted", jobs: jobs.count)
                logger.debug("dispatched", metadata: ["attempts": "\(attempts.map(\.id))", "worker": "\(workerID)"])
            case .full(let retryAfter):
                // Not the task's fault: back in the queue without spending an attempt; another worker takes it.
                metrics.workerCall(outcome: "full", jobs: jobs.count)
                registry.backOff(workerID, seconds: retryAfter)
                await giveBack(attempts, from: workerID)
            case .unreachable(let reason):
                // Killed or restarting: its jobs go elsewhere unspent, and it gets none until it
                // is heard from again (a heartbeat, or a registration, clears the back-off).
                metrics.workerCall(outcome: "unreachable", jobs: jobs.count)
                logger.warning("worker unreachable", metadata: ["worker": "\(workerID)", "reason": "\(reason)"])
                registry.backOff(workerID, seconds: registry.lostAfter)
                await giveBack(attempts, from: workerID)
            }
        } catch {
            metrics.workerCall(outcome: "error", jobs: jobs.count)
            logger.warning("worker did not take the job", metadata: ["worker": "\(workerID)", "error": "\(error)"])
            for attempt in attempts {
                await reaper.requeue(attempt.id, reason: "worker \(workerID) refused the job")
                trigger.slotFreed(registry, workerID: workerID, attemptID: attempt.id)
            }
        }
    }

    /// The worker never took the attempts: queued again, unspent.
    private func giveBack(_ attempts: [Attempt], from workerID: String) async {
        for attempt in attempts {
            _ = try? await store.apply(.unclaim, attemptID: attempt.id)
            trigger.slotFreed(registry, workerID: workerID, attemptID: attempt.id)
        }
    }
}
