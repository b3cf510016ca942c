import Foundation
import Logging
import MuseWorkerProtocol
import ServiceLifecycle

/// Dispatches queued tasks to free workers. Event-driven: a submit, a registration or a freed
/// slot wakes it at once; a one-second sweep is only the safety net (and finds lost workers,
/// polls silent attempts, releases off-peak work).
public final class Scheduler: Service, Sendable {
    let store: any DispatchStore
    let registry: WorkerRegistry
    let client: any PredictClient
    let images: any BlobStore
    let estimator: StartEstimator
    let metrics: PipelineMetrics
    let logger: Logger
    private let callbackBaseURL: String
    private let maxAttempts: Int
    /// How long an attempt may run (the job's deadline); then it is queued again.
    private let lease: TimeInterval
    /// Poll a worker about an attempt after this long without news.
    private let pollAfter: TimeInterval
    /// Off-peak window and affinity switches, read each round (the dynamic config).
    private let settings: LiveSettings
    private let startedAt = Date()
    private let wakeStream: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(
        store: any DispatchStore, registry: WorkerRegistry, client: any PredictClient, images: any BlobStore, callbackBaseURL: String,
        maxAttempts: Int = 3, lease: TimeInterval = 600, pollAfter: TimeInterval = 10, settings: LiveSettings, estimator: StartEstimator,
        metrics: PipelineMetrics, logger: Logger
    ) {
        self.store = store
        self.registry = registry
        self.client = client
        self.images = images
        self.estimator = estimator
        self.metrics = metrics
        self.logger = logger
        self.callbackBaseURL = callbackBaseURL
        self.maxAttempts = maxAttempts
        self.lease = lease
        self.pollAfter = pollAfter
        self.settings = settings
        (wakeStream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a dispatch round soon; many calls before it runs make one round.
    public func wakeUp() {
        wake.yield()
    }

    /// A worker finished (or gave back) an attempt: its slot is free again.
    public func slotFreed(workerID: String, attemptID: String) {
        registry.release(workerID, attemptID: attemptID)
        wakeUp()
    }

    /// A worker (re-)registered. It may have restarted (its jobs are gone) or this server may
    /// have (its jobs may still run): the attempts the store says it holds are looked up on it at
    /// the next sweep, and one it does not know is queued again, within seconds, not a lease.
    public func registered(_ registration: WorkerRegistration) async {
        registry.register(registration)
        let held = (try? await store.attempts(workerID: registration.workerID)) ?? []
        registry.adopt(registration.workerID, attemptIDs: held)
        if !held.isEmpty { logger.notice("worker registered holding attempts", metadata: ["worker": "\(registration.workerID)", "attempts": "\(held.count)"]) }
        wakeUp()
    }

    /// A worker left (gracefully, or lost): its metric series go with it.
    public func left(_ workerID: String) {
        registry.remove(workerID)
        metrics.workerLeft(workerID)
    }

    /// A task was canceled while a worker held it: tell the worker (best effort; the worker's
    /// own `canceled` result frees the slot).
    public func canceled(_ task: GenerationTask) {
        guard let workerID = task.workerID, let attemptID = task.attemptID, let worker = registry.worker(workerID) else { return }
        Task { [client] in try? await client.cancel(attemptID: attemptID, workerURL: worker.registration.url) }
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await requeueLostWorkers()
                    await pollSilentAttempts(pollAfter: pollAfter)
                    await releaseOffPeakWork()
                    await refreshGauges()
                    wakeUp()
                }
            }
            for await _ in wakeStream.cancelOnGracefulShutdown() {
                await dispatchRound()
            }
            group.cancelAll()
        }
    }

    /// Pairs free worker slots with queued tasks until one runs out. A worker with `max_batch`
    /// > 1 gets same-shaped tasks (model, size, LoRAs) together in one call.
    func dispatchRound() async {
        let current = settings.current
        // Workers that found nothing they can run this round (they lack an ability queued work needs).
        var idle: Set<String> = []
        while let worker = registry.reserve(anyOf: Ability.generation, excluding: idle) {
            let id = worker.registration.workerID
            let abilities = Set(worker.registration.abilities.compactMap(Ability.init(rawValue:)))
            let attempts: [Attempt]
            do {
                attempts = try await store.claimNext(
                    workerID: id, abilities: abilities, preferredModels: current.modelAffinity ? worker.modelsLoaded : [],
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
                if Ability.generation.isSubset(of: abilities) { return }
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
                try? await store.unclaim(attemptIDs: attempts.map(\.id))
                for attempt in attempts { slotFreed(workerID: workerID, attemptID: attempt.id) }
            case .unreachable(let reason):
                // Killed or restarting: its jobs go elsewhere unspent, and it gets none until it
                // is heard from again (a heartbeat, or a registration, clears the back-off).
                metrics.workerCall(outcome: "unreachable", jobs: jobs.count)
                logger.warning("worker unreachable", metadata: ["worker": "\(workerID)", "reason": "\(reason)"])
                registry.backOff(workerID, seconds: registry.lostAfter)
                try? await store.unclaim(attemptIDs: attempts.map(\.id))
                for attempt in attempts { slotFreed(workerID: workerID, attemptID: attempt.id) }
            }
        } catch {
            metrics.workerCall(outcome: "error", jobs: jobs.count)
            logger.warning("worker did not take the job", metadata: ["worker": "\(workerID)", "error": "\(error)"])
            for attempt in attempts {
                await requeue(attempt.id, reason: "worker \(workerID) refused the job")
                slotFreed(workerID: workerID, attemptID: attempt.id)
            }
        }
    }

    /// Workers silent for three heartbeats lose their attempts: queued again, or failed after
    /// `maxAttempts`. After a restart, attempts of workers that did not come back within that
    /// time, and attempts whose lease ran out, go the same way.
    func requeueLostWorkers() async {
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
                wakeUp()
            }
        }
    }

    func requeue(_ attemptID: String, reason: String) async {
        let task = try? await store.requeue(attemptID: attemptID, reason: reason, maxAttempts: maxAttempts)
        if task?.status == .failed { metrics.failed(code: "worker_lost") }
    }

    private func refreshGauges() async {
        if let census = try? await store.census() { metrics.tasks(byStatus: census.byStatus, queuedByLane: census.queuedByLane) }
        for worker in registry.all { metrics.workerBusy(worker.registration.workerID, worker.busy) }
    }

    /// Off-peak work runs inside the window, or earlier on GPUs that would otherwise idle.
    func releaseOffPeakWork() async {
        let limit: Int
        if settings.current.offPeak.contains(Date()) {
            limit = 10_000
        } else if (try? await store.count(status: .queued)) == 0 {
            limit = registry.freeSlots(ability: "txt2img")
        } else {
            return
        }
        guard limit > 0 else { return }
        _ = try? await store.releaseScheduled(limit: limit)
    }
}
