import Foundation
import MuseWorkerProtocol
import Synchronization

/// The simulated GPU: a queue of units (one job, or a batch of same-shaped jobs) run `slots`
/// at a time, with a model-switch cost, per-step progress, a failure rate, deadlines, and real
/// PNG results. A batch runs as one unit: one model load, one step loop for all its images.
final class SimulatedGPU: Sendable {
    struct Settings: Sendable {
        var latencyPerImage: Duration
        var modelLoad: Duration
        var failRate: Double
        var slots: Int
        var token: String
        var initialModels: [String]
        /// Never call results back (lost callbacks): the server must poll for them.
        var loseResults = false
    }

    struct Job: Sendable {
        var attemptID: String
        var params: GenerationParams
        var callbackURL: String
        var deadline: Date?
        var accepted = ContinuousClock.now
        var acceptedAt = Date()
    }

    /// What `GET /v1/jobs/{id}` answers.
    struct JobState: Sendable {
        var status: AttemptStatus
        var progress: Double
        var result: WorkerResult?
    }

    private struct State {
        var jobs: [String: JobState] = [:]
        /// Finished jobs, oldest first, so their results can be dropped after a while.
        var finished: [String] = []
        var canceled: Set<String> = []
        var loadedModel: String?
        /// Units accepted and not yet done.
        var pending = 0
        /// Busy intervals of the last 10 s, for the heartbeat's busy ratio.
        var busy: [(start: Date, end: Date?)] = []
    }

    /// Finished jobs whose results stay available to the polling fallback.
    private static let keptResults = 256

    let settings: Settings
    private let state: Mutex<State>
    private let queue: AsyncStream<[Job]>
    private let enqueue: AsyncStream<[Job]>.Continuation
    private let callbacks: Callbacks

    init(settings: Settings, callbacks: Callbacks) {
        self.settings = settings
        self.callbacks = callbacks
        state = Mutex(State(loadedModel: settings.initialModels.first))
        (queue, enqueue) = AsyncStream.makeStream(of: [Job].self)
    }

    /// Accepts a unit while at most one more per slot waits (the server prefetches one); false means 429.
    func accept(_ jobs: [Job]) -> Bool {
        let accepted = state.withLock { state in
            guard state.pending + 1 <= settings.slots * 2 else { return false }
            state.pending += 1
            for job in jobs { state.jobs[job.attemptID] = JobState(status: .queued, progress: 0) }
            return true
        }
        if accepted { enqueue.yield(jobs) }
        return accepted
    }

    func job(_ id: String) -> JobState? {
        state.withLock { $0.jobs[id] }
    }

    func cancel(_ id: String) -> Bool {
        state.withLock { state in
            guard state.jobs[id] != nil else { return false }
            state.canceled.insert(id)
            return true
        }
    }

    var loadedModels: [String] { state.withLock { $0.loadedModel.map { [$0] } ?? [] } }
    var runningJobs: [String] { state.withLock { $0.jobs.filter { $0.value.status == .running }.map(\.key) } }
    var queued: Int { state.withLock { $0.pending } }

    /// Fraction of the last 10 s spent working.
    var busyRatio: Double {
        state.withLock { state in
            let now = Date()
            let windowStart = now.addingTimeInterval(-10)
            state.busy.removeAll { ($0.end ?? now) < windowStart }
            let busy = state.busy.reduce(0.0) { $0 + ($1.end ?? now).timeIntervalSince(max($1.start, windowStart)) }
            return min(1, busy / 10)
        }
    }

    /// Runs units until cancelled, `slots` at a time.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.slots {
                group.addTask { [self] in
                    for await unit in queue { await execute(unit) }
                }
            }
        }
    }

    private func execute(_ unit: [Job]) async {
        guard let first = unit.first else { return }
        let model = first.params.model
        let started = ContinuousClock.now
        // Jobs past their deadline are not started: the server has given up on them already.
        var live = unit.filter { job in
            guard let deadline = job.deadline, deadline < Date() else { return true }
            report(job, WorkerResult(status: .failed, error: TaskError(code: "internal", message: "the job's deadline passed before it started")))
            return false
        }
        let switchModel = state.withLock { state -> Bool in
            for job in live { state.jobs[job.attemptID]?.status = .running }
            state.busy.append((Date(), nil))
            defer { state.loadedModel = model }
            return state.loadedModel != model
        }
        defer {
            state.withLock { state in
                state.pending -= 1
                if let last = state.busy.indices.last { state.busy[last].end = Date() }
            }
        }
        if switchModel { try? await Task.sleep(for: settings.modelLoad) }
        let loaded = ContinuousClock.now
        let steps = max(1, first.params.steps)
        let images = live.reduce(0) { $0 + $1.params.numImages }
        let perStep = settings.latencyPerImage * images / steps
        // Steps are slept through in stretches of about 100 ms, with a progress report (and a
        // cancel check) after each: one timer per stretch instead of one per step, since reports
        // are coalesced to one per 100 ms anyway.
        let stepsPerStretch = perStep > .zero ? max(1, Int((Duration.milliseconds(100) / perStep).rounded(.down))) : steps
        var step = 0
        while step < steps {
            let stretch = min(stepsPerStretch, steps - step)
            try? await Task.sleep(for: perStep * stretch)
            step += stretch
            let canceled = state.withLock { state in live.filter { state.canceled.contains($0.attemptID) } }
            for job in canceled { report(job, WorkerResult(status: .canceled)) }
            live.removeAll { job in canceled.contains { $0.attemptID == job.attemptID } }
            if live.isEmpty { return }
            let progress = Double(step) / Double(steps)
            state.withLock { state in for job in live { state.jobs[job.attemptID]?.progress = progress } }
            if step < steps {
                // Reported beside the GPU loop, as a real worker's CPU side would.
                for job in live {
                    let body = WorkerProgress(progress: progress, step: step, totalSteps: steps)
                    Task { [callbacks] in await callbacks.progress(job.callbackURL, body) }
                }
            }
        }
        for job in live {
            var timings = WorkerTimings(
                queueMs: Self.ms(started - job.accepted), loadMs: Self.ms(loaded - started), inferMs: Self.ms(ContinuousClock.now - loaded))
            timings.acceptedAtMs = Int64(job.acceptedAt.timeIntervalSince1970 * 1000)
            if Double.random(in: 0..<1) < settings.failRate {
                report(job, WorkerResult(status: .failed, error: TaskError(code: "internal", message: "simulated failure (--fail-rate)"), timings: timings))
            } else {
                // Encoding and upload happen off the GPU loop, so the next unit starts at once.
                Task { [self] in report(job, Self.succeeded(job.params, timings)) }
            }
        }
    }

    /// Records a job's final state (for polling) and calls it back, unless results are "lost".
    private func report(_ job: Job, _ result: WorkerResult) {
        let status = result.status
        state.withLock { state in
            state.jobs[job.attemptID] = JobState(
                status: status, progress: status == .succeeded ? 1 : (state.jobs[job.attemptID]?.progress ?? 0), result: result)
            state.finished.append(job.attemptID)
            if state.finished.count > Self.keptResults {
                let dropped = state.finished.removeFirst()
                state.jobs[dropped] = nil
                state.canceled.remove(dropped)
            }
        }
        guard !settings.loseResults else { return }
        var result = result
        result.timings?.reportedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        Task { [callbacks, result] in await callbacks.result(job.callbackURL, result) }
    }

    private static func succeeded(_ params: GenerationParams, _ timings: WorkerTimings) -> WorkerResult {
        let started = ContinuousClock.now
        let images = (0..<params.numImages).map { k in
            // Image k's seed wraps at 2^32, as the result's seed field allows (docs/WORKER-PROTOCOL.md).
            let seed = (params.seed + Int64(k)) & Int64(UInt32.max)
            let png = SimulatedImage.png(
                model: params.model, prompt: params.prompt, negativePrompt: params.negativePrompt, seed: seed,
                width: params.width, height: params.height, steps: params.steps
            )
            return WorkerResult.Image(pngBase64: Data(png).base64EncodedString(), seed: seed, width: params.width, height: params.height)
        }
        var timings = timings
        timings.encodeMs = ms(ContinuousClock.now - started)
        return WorkerResult(status: .succeeded, images: images, timings: timings)
    }

    private static func ms(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
