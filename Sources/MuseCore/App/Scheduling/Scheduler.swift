import Foundation
import Logging
import MuseWorkerProtocol
import ServiceLifecycle

/// Keeps the GPU workers busy. Event-driven: a submit, a registration or a freed slot pulls a
/// dispatch round at once; a one-second sweep is only the safety net, and runs the other parts:
/// reaping lost attempts, polling silent ones, releasing off-peak work, refreshing the gauges.
/// Each part is its own type; this one owns the loop and the worker lifecycle.
public final class Scheduler: Service, QueueSignal, Sendable {
    let registry: WorkerRegistry
    let client: any PredictClient
    let store: any DispatchStore
    let metrics: PipelineMetrics
    let logger: Logger
    let trigger = DispatchTrigger()
    let dispatcher: Dispatcher
    /// Worker reports (callbacks and polled results).
    public let results: ResultIntake
    let reaper: AttemptReaper
    let poller: AttemptPoller
    let offPeak: OffPeakRelease

    public init(
        store: any DispatchStore, registry: WorkerRegistry, client: any PredictClient, images: any BlobStore, callbackBaseURL: String,
        maxAttempts: Int = 3, lease: TimeInterval = 600, pollAfter: TimeInterval = 10, settings: LiveSettings, estimator: StartEstimator,
        metrics: PipelineMetrics, logger: Logger
    ) {
        self.registry = registry
        self.client = client
        self.store = store
        self.metrics = metrics
        self.logger = logger
        reaper = AttemptReaper(
            store: store, registry: registry, client: client, trigger: trigger, maxAttempts: maxAttempts, metrics: metrics, logger: logger)
        dispatcher = Dispatcher(
            store: store, registry: registry, client: client, reaper: reaper, trigger: trigger, settings: settings, lease: lease,
            callbackBaseURL: callbackBaseURL, metrics: metrics, logger: logger)
        results = ResultIntake(store: store, registry: registry, images: images, trigger: trigger, estimator: estimator, metrics: metrics)
        poller = AttemptPoller(
            registry: registry, client: client, results: results, reaper: reaper, trigger: trigger, pollAfter: pollAfter, metrics: metrics, logger: logger)
        offPeak = OffPeakRelease(store: store, registry: registry, settings: settings)
    }

    public func taskSubmitted() {
        trigger.pull()
    }

    /// Best effort: the worker's own `canceled` result frees the slot.
    public func taskCanceled(_ task: GenerationTask) {
        guard let workerID = task.workerID, let attemptID = task.attemptID, let worker = registry.worker(workerID) else { return }
        Task { [client] in try? await client.cancel(attemptID: attemptID, workerURL: worker.registration.url) }
    }

    /// A worker (re-)registered. It may have restarted (its jobs are gone) or this server may
    /// have (its jobs may still run): the attempts the store says it holds are looked up on it at
    /// the next sweep, and one it does not know is queued again, within seconds, not a lease.
    public func registered(_ registration: WorkerRegistration) async {
        registry.register(registration)
        let held = (try? await store.attempts(workerID: registration.workerID)) ?? []
        registry.adopt(registration.workerID, attemptIDs: held)
        if !held.isEmpty { logger.notice("worker registered holding attempts", metadata: ["worker": "\(registration.workerID)", "attempts": "\(held.count)"]) }
        trigger.pull()
    }

    /// A worker left (gracefully, or lost): its metric series go with it.
    public func left(_ workerID: String) {
        registry.remove(workerID)
        metrics.workerLeft(workerID)
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await reaper.reap()
                    await poller.pollSilentAttempts()
                    await offPeak.release()
                    await refreshGauges()
                    trigger.pull()
                }
            }
            for await _ in trigger.rounds.cancelOnGracefulShutdown() {
                await dispatcher.round()
            }
            group.cancelAll()
        }
    }

    private func refreshGauges() async {
        if let census = try? await store.census() { metrics.tasks(byStatus: census.byStatus, queuedByLane: census.queuedByLane) }
        for worker in registry.all { metrics.workerBusy(worker.registration.workerID, worker.busy) }
    }
}
