import COpenSSL
import Foundation
import MuseJSON
import MuseWorkerProtocol
import Synchronization

/// The simulator's crop, tag and training jobs, `trainSlots` at a time, apart from the GPU's
/// generation slots. It fetches the dataset images it is given; a crop uploads a new PNG of the
/// asked size per image (drawn, not cut from the original), a tag job captions each image with the
/// trigger word, and a training reports its steps with a falling loss, stores a checkpoint every
/// `checkpoint_every` steps, resumes from the one it is sent, and uploads a real `.safetensors`
/// LoRA before its result.
final class SimulatedTrainer: Sendable {
    struct Settings: Sendable {
        var trainSlots: Int
        var stepTime: Duration
        var loseResults: Bool
    }

    private struct State {
        var jobs: [String: AttemptStatus] = [:]
        var progress: [String: Double] = [:]
        var canceled: Set<String> = []
        var running = 0
        var finished: [String] = []
    }

    let settings: Settings
    private let state = Mutex(State())
    private let callbacks: Callbacks

    init(settings: Settings, callbacks: Callbacks) {
        self.settings = settings
        self.callbacks = callbacks
    }

    /// Starts the job unless every training slot is taken (then the server hears 429).
    func accept(_ job: WorkerDatasetJob) -> Bool {
        let accepted = state.withLock { state in
            guard state.running < settings.trainSlots else { return false }
            state.running += 1
            state.jobs[job.attemptID] = .running
            return true
        }
        if accepted { Task { await run(job) } }
        return accepted
    }

    func status(_ attemptID: String) -> (AttemptStatus, Double)? {
        state.withLock { state in state.jobs[attemptID].map { ($0, state.progress[attemptID] ?? 0) } }
    }

    func cancel(_ attemptID: String) -> Bool {
        state.withLock { state in
            guard state.jobs[attemptID] != nil else { return false }
            state.canceled.insert(attemptID)
            return true
        }
    }

    var runningJobs: [String] { state.withLock { $0.jobs.filter { $0.value == .running }.map(\.key) } }

    private func isCanceled(_ id: String) -> Bool { state.withLock { $0.canceled.contains(id) } }

    private func run(_ job: WorkerDatasetJob) async {
        let result: WorkerJobResult
        switch job.kind {
        case "crop": result = await crop(job)
        case "tag": result = await tag(job)
        default: result = await train(job)
        }
        state.withLock { state in
            state.running -= 1
            state.jobs[job.attemptID] = result.status
            state.finished.append(job.attemptID)
            if state.finished.count > 256 {
                let dropped = state.finished.removeFirst()
                state.jobs[dropped] = nil
                state.progress[dropped] = nil
                state.canceled.remove(dropped)
            }
        }
        guard !settings.loseResults else { return }
        await callbacks.result(job.callbackURL, result)
    }

    private static func int(_ value: JSONValue?, _ fallback: Int) -> Int {
        if case .number(let text)? = value, let number = Double(text) { return Int(number) }
        return fallback
    }

    private static func string(_ value: JSONValue?) -> String {
        if case .string(let text)? = value { return text }
        return ""
    }

    private func crop(_ job: WorkerDatasetJob) async -> WorkerJobResult {
        let width = Self.int(job.params[member: "width"], 512), height = Self.int(job.params[member: "height"], 512)
        for (i, image) in job.images.enumerated() {
            if isCanceled(job.attemptID) { return WorkerJobResult(status: .canceled) }
            guard await callbacks.fetch(image.url, maxBytes: 64 << 20) != nil else {
                return WorkerJobResult(status: .failed, error: TaskError(code: "internal", message: "could not fetch image \(image.id)"))
            }
            let png = SimulatedImage.png(model: "crop", prompt: image.id, negativePrompt: "", seed: Int64(i), width: width, height: height, steps: 1)
            guard await callbacks.put(job.callbackURL + "/images/\(image.id)", png, contentType: "image/png") == 200 else {
                return WorkerJobResult(status: .failed, error: TaskError(code: "internal", message: "the server refused the crop of \(image.id)"))
            }
            await report(job, step: i + 1, total: job.images.count, loss: nil)
        }
        return WorkerJobResult(status: .succeeded, metrics: .object([("images", .number(String(job.images.count)))]))
    }

    private func tag(_ job: WorkerDatasetJob) async -> WorkerJobResult {
        let trigger = Self.string(job.params[member: "trigger_word"])
        var captions: [WorkerJobResult.Caption] = []
        for (i, image) in job.images.enumerated() {
            if isCanceled(job.attemptID) { return WorkerJobResult(status: .canceled) }
            guard await callbacks.fetch(image.url, maxBytes: 64 << 20) != nil else {
                return WorkerJobResult(status: .failed, error: TaskError(code: "internal", message: "could not fetch image \(image.id)"))
            }
            try? await Task.sleep(for: settings.stepTime)
            captions.append(.init(imageID: image.id, caption: "\(trigger), a photo, \(image.width)x\(image.height)"))
            await report(job, step: i + 1, total: job.images.count, loss: nil)
        }
        return WorkerJobResult(status: .succeeded, captions: captions)
    }

    private func train(_ job: WorkerDatasetJob) async -> WorkerJobResult {
        let form = job.params[member: "params"]
        let steps = max(1, Self.int(form?[member: "steps"], 100))
        let every = max(1, Self.int(form?[member: "checkpoint_every"], 250))
        let rank = max(1, Self.int(form?[member: "rank"], 16))
        let alpha = Self.int(form?[member: "alpha"], rank)
        let seed = UInt64(max(0, Self.int(form?[member: "seed"], 42)))
        var step = 0
        if let resume = job.resume {
            guard let bytes = await callbacks.fetch(resume.url, maxBytes: 64 << 20), let saved = Int(String(decoding: bytes, as: UTF8.self).dropFirst(5))
            else { return WorkerJobResult(status: .failed, error: TaskError(code: "internal", message: "could not fetch the checkpoint to resume from")) }
            step = min(saved, steps)
        }
        for image in job.images where await callbacks.fetch(image.url, maxBytes: 64 << 20) == nil {
            return WorkerJobResult(status: .failed, error: TaskError(code: "internal", message: "could not fetch image \(image.id)"))
        }
        let reportEvery = max(1, steps / 100)
        while step < steps {
            if isCanceled(job.attemptID) { return WorkerJobResult(status: .canceled) }
            try? await Task.sleep(for: settings.stepTime)
            step += 1
            if step % reportEvery == 0 || step == steps {
                await report(job, step: step, total: steps, loss: Self.loss(step: step, of: steps, seed: seed))
            }
            if step % every == 0, step < steps {
                let stored = await callbacks.put(
                    job.callbackURL + "/checkpoint?step=\(step)", Array("step=\(step)".utf8), contentType: "application/octet-stream")
                // 404: the server no longer wants this attempt. Any other failure (a server busy past
                // its tries) only loses this checkpoint: the training goes on.
                if stored == 404 { return WorkerJobResult(status: .canceled) }
            }
        }
        let artifact = SafetensorsWriter.lora(
            base: Self.string(job.params[member: "base"]), rank: rank, alpha: Double(alpha), seed: seed,
            metadata: ["ss_network_dim": String(rank), "ss_network_alpha": String(alpha), "ss_output_name": Self.string(job.params[member: "output_name"])])
        let upload = job.callbackURL + "/artifact"
        guard await callbacks.put(upload, artifact, contentType: "application/octet-stream") == 200 else {
            return WorkerJobResult(status: .failed, error: TaskError(code: "internal", message: "the server refused the artifact"))
        }
        return WorkerJobResult(
            status: .succeeded, artifact: .init(sha256: Self.sha256(artifact), size: artifact.count, upload: upload),
            metrics: .object([("final_loss", .number(String(Self.loss(step: steps, of: steps, seed: seed)))), ("steps", .number(String(steps)))]))
    }

    private func report(_ job: WorkerDatasetJob, step: Int, total: Int, loss: Double?) async {
        let progress = Double(step) / Double(max(1, total))
        state.withLock { $0.progress[job.attemptID] = progress }
        await callbacks.progress(job.callbackURL, WorkerProgress(progress: min(1, progress), step: step, totalSteps: total, loss: loss))
    }

    /// A falling curve with a little seeded noise: what a LoRA training's loss looks like.
    static func loss(step: Int, of steps: Int, seed: UInt64) -> Double {
        let x = Double(step) / Double(steps)
        var h = (seed &+ UInt64(step)) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        let noise = Double(h % 1000) / 1000 - 0.5
        return max(0.01, 0.08 + 0.22 * exp(-4 * x) + 0.02 * noise)
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in _ = out.withUnsafeMutableBufferPointer { SHA256(input.baseAddress, input.count, $0.baseAddress) } }
        return out.map { String(format: "%02x", $0) }.joined()
    }
}
