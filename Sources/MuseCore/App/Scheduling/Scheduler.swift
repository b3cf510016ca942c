import Foundation
import Logging
import ServiceLifecycle

/// Dispatches queued tasks to free workers. Event-driven: a submit, a registration or a freed
/// slot wakes it at once; a one-second sweep is only the safety net (and finds lost workers).
public final class Scheduler: Service, Sendable {
    private let store: any DispatchStore
    private let registry: WorkerRegistry
    private let client: any PredictClient
    private let callbackBaseURL: String
    private let maxAttempts: Int
    private let lease: TimeInterval
    private let logger: Logger
    private let offPeak: OffPeakWindow
    private let metrics: PipelineMetrics
    /// Prefer tasks for models a worker has loaded (off: first come, any free worker — the bench's baseline).
    private let modelAffinity: Bool
    /// How long affinity may make a task wait before it goes first anyway.
    private let maxAffinityWait: TimeInterval
    private let startedAt = Date()
    private let wakeStream: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(
        store: any DispatchStore, registry: WorkerRegistry, client: any PredictClient, callbackBaseURL: String,
        maxAttempts: Int = 3, lease: TimeInterval = 600, offPeak: OffPeakWindow = OffPeakWindow(startHour: 1, endHour: 6),
        modelAffinity: Bool = true, maxAffinityWait: TimeInterval = 10, metrics: PipelineMetrics, logger: Logger
    ) {
        self.modelAffinity = modelAffinity
        self.maxAffinityWait = maxAffinityWait
        self.offPeak = offPeak
        self.metrics = metrics
        self.store = store
        self.registry = registry
        self.client = client
        self.callbackBaseURL = callbackBaseURL
        self.maxAttempts = maxAttempts
        self.lease = lease
        self.logger = logger
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

    /// Pairs free worker slots with queued tasks until one runs out.
    func dispatchRound() async {
        while let worker = registry.reserve(ability: "txt2img") {
            let id = worker.registration.workerID
            let attempt: Attempt?
            do {
                attempt = try await store.claimNext(
                    workerID: id, preferredModels: modelAffinity ? worker.modelsLoaded : [],
                    agedBefore: Date().addingTimeInterval(-maxAffinityWait), leaseUntil: Date().addingTimeInterval(lease)
                )
            } catch {
                logger.error("claiming a task failed", metadata: ["error": "\(error)"])
                attempt = nil
            }
            guard let attempt else {
                registry.unreserve(id)
                return
            }
            registry.bind(id, attemptID: attempt.id)
            metrics.dispatched(
                lane: attempt.task.lane, after: Date().timeIntervalSince(attempt.task.createdAt),
                switchedModel: !worker.modelsLoaded.contains(attempt.task.params.model)
            )
            registry.assumeLoaded(id, model: attempt.task.params.model)
            // The push is an HTTP call: run it beside the loop so one slow worker delays nobody.
            Task { await push(attempt, to: worker) }
        }
    }

    private func push(_ attempt: Attempt, to worker: WorkerRegistry.Worker) async {
        let job = PredictJob(
            attemptID: attempt.id, params: attempt.task.params,
            callbackURL: "\(callbackBaseURL)/internal/v1/attempts/\(attempt.id)", deadline: Date().addingTimeInterval(lease)
        )
        do {
            try await client.submit(job, workerURL: worker.registration.url)
            logger.debug("dispatched", metadata: ["task": "\(attempt.task.id)", "attempt": "\(attempt.id)", "worker": "\(attempt.workerID)"])
        } catch {
            logger.warning("worker did not take the job", metadata: ["worker": "\(attempt.workerID)", "error": "\(error)"])
            await requeue(attempt.id, reason: "worker \(attempt.workerID) refused the job")
            slotFreed(workerID: attempt.workerID, attemptID: attempt.id)
        }
    }

    /// Workers silent for three heartbeats lose their attempts: queued again, or failed after
    /// `maxAttempts`. After a restart, attempts of workers that did not come back within that
    /// time, and attempts whose lease ran out, go the same way.
    func requeueLostWorkers() async {
        for workerID in registry.removeLost() {
            logger.warning("worker lost", metadata: ["worker": "\(workerID)"])
            for attemptID in (try? await store.attempts(workerID: workerID)) ?? [] {
                await requeue(attemptID, reason: "worker \(workerID) stopped heart-beating")
            }
        }
        guard Date().timeIntervalSince(startedAt) > registry.lostAfter else { return }
        let live = Set(registry.all.map(\.registration.workerID))
        for attemptID in (try? await store.orphanedAttempts(liveWorkers: live, now: Date())) ?? [] {
            logger.warning("attempt orphaned", metadata: ["attempt": "\(attemptID)"])
            await requeue(attemptID, reason: "its worker is gone or its lease ran out")
        }
    }

    private func requeue(_ attemptID: String, reason: String) async {
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
        if offPeak.contains(Date()) {
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
