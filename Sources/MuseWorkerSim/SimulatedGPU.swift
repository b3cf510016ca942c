import Foundation
import MuseCore
import Synchronization

/// The simulated GPU: a queue of jobs run `slots` at a time, with a model-switch cost,
/// per-step progress, a failure rate, and real PNG results.
final class SimulatedGPU: Sendable {
    struct Settings: Sendable {
        var latencyPerImage: Duration
        var modelLoad: Duration
        var failRate: Double
        var slots: Int
        var token: String
        var initialModels: [String]
    }

    struct Job: Sendable {
        var attemptID: String
        var params: GenerationParams
        var callbackURL: String
        var accepted = ContinuousClock.now
    }

    enum Status: String, Sendable {
        case queued, running, succeeded, failed, canceled
    }

    private struct State {
        var jobs: [String: (status: Status, progress: Double)] = [:]
        var canceled: Set<String> = []
        var loadedModel: String?
        var pending = 0
        /// Busy intervals of the last 10 s, for the heartbeat's busy ratio.
        var busy: [(start: Date, end: Date?)] = []
        var modelSwitches = 0
    }

    let settings: Settings
    private let state: Mutex<State>
    private let queue: AsyncStream<Job>
    private let enqueue: AsyncStream<Job>.Continuation
    private let callbacks: Callbacks

    init(settings: Settings, callbacks: Callbacks) {
        self.settings = settings
        self.callbacks = callbacks
        state = Mutex(State(loadedModel: settings.initialModels.first))
        (queue, enqueue) = AsyncStream.makeStream(of: Job.self)
    }

    /// Accepts jobs while at most one more per slot waits (the server prefetches one); false means 429.
    func accept(_ jobs: [Job]) -> Bool {
        let accepted = state.withLock { state in
            guard state.pending + jobs.count <= settings.slots * 2 else { return false }
            state.pending += jobs.count
            for job in jobs { state.jobs[job.attemptID] = (.queued, 0) }
            return true
        }
        if accepted { jobs.forEach { enqueue.yield($0) } }
        return accepted
    }

    func job(_ id: String) -> (status: Status, progress: Double)? {
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

    /// Runs jobs until cancelled, `slots` at a time.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.slots {
                group.addTask { [self] in
                    for await job in queue { await execute(job) }
                }
            }
        }
    }

    private func execute(_ job: Job) async {
        let params = job.params
        let started = ContinuousClock.now
        let switchModel = state.withLock { state -> Bool in
            state.jobs[job.attemptID] = (.running, 0)
            state.busy.append((Date(), nil))
            defer { state.loadedModel = params.model }
            if state.loadedModel != params.model { state.modelSwitches += 1 }
            return state.loadedModel != params.model
        }
        defer {
            state.withLock { state in
                state.pending -= 1
                if let last = state.busy.indices.last { state.busy[last].end = Date() }
            }
        }
        if switchModel { try? await Task.sleep(for: settings.modelLoad) }
        let loaded = ContinuousClock.now
        let steps = max(1, params.steps)
        let perStep = settings.latencyPerImage * params.numImages / steps
        var lastReport = ContinuousClock.now - .seconds(1)
        for step in 1...steps {
            try? await Task.sleep(for: perStep)
            if state.withLock({ $0.canceled.contains(job.attemptID) }) {
                finish(job, .canceled)
                await callbacks.result(job.callbackURL, WorkerResult(status: "canceled"))
                return
            }
            let progress = Double(step) / Double(steps)
            state.withLock { $0.jobs[job.attemptID]?.progress = progress }
            // One progress call per step, coalesced to at most one per 100 ms.
            if step < steps, ContinuousClock.now - lastReport >= .milliseconds(100) {
                lastReport = .now
                // Reported beside the GPU loop, as a real worker's CPU side would.
                let body = WorkerProgress(progress: progress, step: step, totalSteps: steps)
                Task { [callbacks] in await callbacks.progress(job.callbackURL, body) }
            }
        }
        let timings = WorkerTimings(queueMs: Self.ms(started - job.accepted), loadMs: Self.ms(loaded - started), inferMs: Self.ms(ContinuousClock.now - loaded))
        if Double.random(in: 0..<1) < settings.failRate {
            finish(job, .failed)
            await callbacks.result(job.callbackURL, WorkerResult(status: "failed", error: TaskError(code: "internal", message: "simulated failure (--fail-rate)"), timings: timings))
            return
        }
        finish(job, .succeeded)
        // Encoding and upload happen off the GPU loop, so the next job starts at once.
        Task { [callbacks] in await callbacks.result(job.callbackURL, Self.succeeded(params, timings)) }
    }

    private static func succeeded(_ params: GenerationParams, _ timings: WorkerTimings) -> WorkerResult {
        let images = (0..<params.numImages).map { k in
            let seed = params.seed + Int64(k)
            let png = SimulatedImage.png(
                model: params.model, prompt: params.prompt, negativePrompt: params.negativePrompt, seed: seed,
                width: params.width, height: params.height, steps: params.steps
            )
            return WorkerResult.Image(pngBase64: Data(png).base64EncodedString(), seed: seed, width: params.width, height: params.height)
        }
        return WorkerResult(status: "succeeded", images: images, timings: timings)
    }

    private static func ms(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private func finish(_ job: Job, _ status: Status) {
        state.withLock { $0.jobs[job.attemptID] = (status, status == .succeeded ? 1 : ($0.jobs[job.attemptID]?.progress ?? 0)) }
    }
}

