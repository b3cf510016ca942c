import Foundation
import Logging
import MuseJSON
import MuseWorkerProtocol
import ServiceLifecycle
import Synchronization

/// Runs crop, tag and training jobs on workers with those abilities: a lane of its own beside
/// the generation scheduler, so a training that runs for hours never holds a generation slot and
/// generation never starves training. A worker takes `train_slots` of these at once. A worker
/// reserved for an owner (config `training.reserved_workers`) runs only that owner's `private`
/// jobs; the others run `shared` ones. Every second the sweep looks for jobs whose worker is gone
/// or no longer knows them, and queues them again (a training resumes from its last checkpoint).
public final class JobScheduler: Service, Sendable {
    /// How the lane is set up (config `training.*`).
    public struct Settings: Sendable {
        /// Worker id → the tenants or teams it is reserved for.
        public var reservedWorkers: [String: Set<String>]
        /// Tries a job may spend on lost workers before it fails.
        public var maxAttempts: Int
        /// After a server start, how long workers have to register again before their jobs count as lost.
        public var restartGrace: TimeInterval
        /// A job out on a live worker that has not reported it for this long is looked up there.
        public var unreportedAfter: TimeInterval

        public init(reservedWorkers: [String: Set<String>] = [:], maxAttempts: Int = 3, restartGrace: TimeInterval = 15, unreportedAfter: TimeInterval = 10) {
            self.reservedWorkers = reservedWorkers
            self.maxAttempts = maxAttempts
            self.restartGrace = restartGrace
            self.unreportedAfter = unreportedAfter
        }
    }

    let store: any JobStore
    let datasets: any DatasetStore
    let registry: WorkerRegistry
    let client: any TrainClient
    /// Checkpoints, deleted when a job fails for good.
    let trainingBlobs: any BlobStore
    let callbackBaseURL: String
    let settings: Settings
    let metrics: TrainingMetrics
    let logger: Logger
    let trigger = DispatchTrigger()
    let started = Date()
    /// Attempt id → when the server last heard of it (dispatch, progress, a heartbeat listing it).
    private let news = Mutex<[String: Date]>([:])
    /// Attempts a worker was told to stop, and when: told again after `unreportedAfter` if it still runs them.
    private let stopped = Mutex<[String: Date]>([:])

    public init(
        store: any JobStore, datasets: any DatasetStore, registry: WorkerRegistry, client: any TrainClient, trainingBlobs: any BlobStore,
        callbackBaseURL: String, settings: Settings, metrics: TrainingMetrics, logger: Logger
    ) {
        self.trainingBlobs = trainingBlobs
        self.metrics = metrics
        self.store = store
        self.datasets = datasets
        self.registry = registry
        self.client = client
        self.callbackBaseURL = callbackBaseURL
        self.settings = settings
        self.logger = logger
    }

    /// A job was submitted, or a slot freed: dispatch now rather than at the next sweep.
    public func pull() {
        trigger.pull()
    }

    /// Word of the attempt from its worker (progress, a checkpoint): it is alive.
    public func heard(_ attemptID: String) {
        news.withLock { $0[attemptID] = Date() }
    }

    /// The attempt is over (finished, canceled, requeued): its slot is free.
    public func ended(_ attemptID: String) {
        news.withLock { $0[attemptID] = nil }
        trigger.pull()
    }

    /// Tells the worker to stop an attempt (best effort; the store already moved on).
    public func stop(attemptID: String, workerID: String) {
        ended(attemptID)
        guard let worker = registry.worker(workerID) else { return }
        Task { [client] in try? await client.cancel(attemptID: attemptID, workerURL: worker.registration.url) }
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await sweep()
                    trigger.pull()
                }
            }
            for await _ in trigger.rounds.cancelOnGracefulShutdown() {
                await round()
            }
            group.cancelAll()
        }
    }

    /// Fills free training slots of live workers, least busy first.
    func round() async {
        guard let active = try? await store.active() else { return }
        var held: [String: Int] = [:]
        for job in active { if let worker = job.workerID { held[worker, default: 0] += 1 } }
        let now = Date()
        let candidates = registry.all.filter { worker in
            now.timeIntervalSince(worker.lastSeen) < registry.lostAfter && !worker.abilities.isDisjoint(with: [.crop, .tag, .train])
                && (worker.fullUntil.map { now >= $0 } ?? true)
        }.sorted { $0.busy < $1.busy }
        for worker in candidates {
            let id = worker.registration.workerID
            let kinds = Set(JobKind.allCases.filter { worker.abilities.contains($0.ability) })
            var free = worker.registration.trainSlots - held[id, default: 0]
            while free > 0 {
                let attemptID = IDGenerator.make("att")
                let job: TrainingJob?
                do {
                    job = try await store.claim(
                        kinds: kinds, workerID: id, reservedFor: settings.reservedWorkers[id] ?? [], attemptID: attemptID, at: Date())
                } catch {
                    logger.error("claiming a training job failed", metadata: ["error": "\(error)"])
                    return
                }
                guard let job else { break }
                free -= 1
                heard(attemptID)
                await push(job, attemptID: attemptID, to: worker)
            }
        }
    }

    private func push(_ job: TrainingJob, attemptID: String, to worker: WorkerRegistry.Worker) async {
        let base = callbackBaseURL + "/internal/v1"
        let stored = (try? await datasets.images(datasetID: job.datasetID)) ?? []
        guard !stored.isEmpty else {
            // Emptied while it waited: nothing to run on.
            _ = try? await store.finish(
                attemptID: attemptID, status: .failed, outputModelKey: nil, error: TaskError(code: "dataset_empty", message: "the dataset has no images"),
                at: Date())
            ended(attemptID)
            return
        }
        let images = stored.map {
            WorkerDatasetJob.Image(
                id: $0.id, url: "\(base)/datasets/\(job.datasetID)/images/\($0.id)", contentType: $0.format.contentType, width: $0.width, height: $0.height,
                caption: $0.caption)
        }
        let wire = WorkerDatasetJob(
            attemptID: attemptID, kind: job.kind.rawValue, params: job.params, images: images, callbackURL: "\(base)/job-attempts/\(attemptID)",
            resume: job.checkpoint.map { .init(step: $0.step, url: "\(base)/trainings/\(job.id)/checkpoint") }, deadline: nil)
        let workerID = worker.registration.workerID
        do {
            switch try await client.submit(wire, workerURL: worker.registration.url) {
            case .accepted:
                logger.info("training job dispatched", metadata: ["job": "\(job.id)", "attempt": "\(attemptID)", "worker": "\(workerID)"])
            case .full(let retryAfter):
                registry.backOff(workerID, seconds: retryAfter)
                _ = try? await store.unclaim(attemptID: attemptID)
                news.withLock { $0[attemptID] = nil }
            case .unreachable(let reason):
                logger.warning("worker unreachable", metadata: ["worker": "\(workerID)", "reason": "\(reason)"])
                registry.backOff(workerID, seconds: registry.lostAfter)
                _ = try? await store.unclaim(attemptID: attemptID)
                news.withLock { $0[attemptID] = nil }
            }
        } catch {
            logger.warning("worker did not take the training job", metadata: ["worker": "\(workerID)", "error": "\(error)"])
            _ = try? await store.requeue(
                attemptID: attemptID, maxAttempts: settings.maxAttempts, error: TaskError(code: "internal", message: "the worker refused the job"), at: Date())
            news.withLock { $0[attemptID] = nil }
        }
    }

    /// Queues again what is out on a worker that is gone, or on a live one that no longer knows it;
    /// stops what a worker still runs for a job that is over (canceled while the worker was away).
    func sweep() async {
        if let census = try? await store.census() { metrics.jobs(census) }
        guard let active = try? await store.active() else { return }
        let now = Date()
        await stopLeftovers(active: Set(active.compactMap(\.attemptID)), now: now)
        for job in active {
            guard let attemptID = job.attemptID, let workerID = job.workerID else { continue }
            let last = news.withLock { news in
                if news[attemptID] == nil { news[attemptID] = now }  // first seen since this server started
                return news[attemptID]!
            }
            guard let worker = registry.worker(workerID), now.timeIntervalSince(worker.lastSeen) < registry.lostAfter else {
                // After a restart, give workers time to register again before calling them lost.
                guard now.timeIntervalSince(started) > settings.restartGrace, now.timeIntervalSince(last) > registry.lostAfter else { continue }
                await requeue(job, attemptID, "worker \(workerID) was lost")
                continue
            }
            if worker.reported.contains(attemptID) {
                heard(attemptID)
                continue
            }
            guard now.timeIntervalSince(last) > settings.unreportedAfter else { continue }
            // Not in its heartbeats, no news for a while: ask it.
            let status: AttemptStatus?
            do {
                status = try await client.status(attemptID: attemptID, workerURL: worker.registration.url)
            } catch {
                continue  // unreachable just now: the worker's liveness decides
            }
            switch status {
            case nil:
                await requeue(job, attemptID, "worker \(workerID) does not know the job")
            case let status? where status.isFinished:
                // Its result did not arrive: queued again rather than believed without one.
                await requeue(job, attemptID, "worker \(workerID) finished the job but its result never came")
            case .some:
                heard(attemptID)
            }
        }
    }

    /// Attempts a worker reports running that are neither generation attempts it holds nor current
    /// training attempts: if the store knows them as a job's (final, or no longer its attempt),
    /// the worker is told to stop them, again every `unreportedAfter` while it keeps reporting them.
    private func stopLeftovers(active: Set<String>, now: Date) async {
        for worker in registry.all where !worker.abilities.isDisjoint(with: [.crop, .tag, .train]) {
            let unknown = worker.reported.subtracting(active).subtracting(worker.inFlight.keys)
            for attemptID in unknown {
                let recently = stopped.withLock { $0[attemptID].map { now.timeIntervalSince($0) < settings.unreportedAfter } ?? false }
                guard !recently, let job = try? await store.job(attemptID: attemptID) else { continue }
                guard job.status.isFinal || job.attemptID != attemptID else { continue }
                stopped.withLock { $0[attemptID] = now }
                logger.notice(
                    "stopping a job attempt that is over",
                    metadata: ["attempt": "\(attemptID)", "job": "\(job.id)", "worker": "\(worker.registration.workerID)"])
                let url = worker.registration.url
                Task { [client] in try? await client.cancel(attemptID: attemptID, workerURL: url) }
            }
        }
        stopped.withLock { $0 = $0.filter { now.timeIntervalSince($0.value) < 600 } }
    }

    private func requeue(_ job: TrainingJob, _ attemptID: String, _ reason: String) async {
        metrics.requeued()
        logger.warning("training job queued again", metadata: ["job": "\(job.id)", "attempt": "\(attemptID)", "reason": "\(reason)"])
        let after = try? await store.requeue(
            attemptID: attemptID, maxAttempts: settings.maxAttempts, error: TaskError(code: "worker_lost", message: reason), at: Date())
        if let after, after.status.isFinal { await JobIntake.discardCheckpoint(after, trainingBlobs) }
        ended(attemptID)
    }
}
