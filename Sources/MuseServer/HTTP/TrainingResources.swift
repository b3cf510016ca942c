import Foundation
import MuseCore
import MuseHTTP
import MuseJSON
import MuseWorkerProtocol

/// The training object of docs/API.md: status, step, loss, ETA, and the LoRA once it exists.
struct TrainingResource: Encodable {
    let job: TrainingJob
    let now: Date

    init(_ job: TrainingJob, now: Date = Date()) {
        self.job = job
        self.now = now
    }

    enum CodingKeys: String, CodingKey {
        case id, status, progress, step, loss, error, dataset, resources, attempts, params
        case totalSteps = "total_steps"
        case etaSeconds = "eta_seconds"
        case outputModelKey = "output_model_key"
        case baseModel = "base_model"
        case outputName = "output_name"
        case triggerWord = "trigger_word"
        case checkpointStep = "checkpoint_step"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// Seconds left at the pace of the steps so far (null until a step is reported, and once final).
    var eta: Int? {
        guard job.status == .running, let step = job.step, let total = job.totalSteps, step > 0, total > step, let started = job.startedAt else {
            return nil
        }
        let perStep = now.timeIntervalSince(started) / Double(step)
        return Int((perStep * Double(total - step)).rounded())
    }

    func encode(to encoder: any Encoder) throws {
        let spec = TrainingSpec(job.params)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job.id, forKey: .id)
        try c.encode(job.status.rawValue, forKey: .status)
        try c.encode(job.progress, forKey: .progress)
        try c.encode(job.step, forKey: .step)
        try c.encode(job.totalSteps, forKey: .totalSteps)
        try c.encode(job.loss, forKey: .loss)
        try c.encode(eta, forKey: .etaSeconds)
        try c.encode(job.outputModelKey, forKey: .outputModelKey)
        try c.encode(job.error, forKey: .error)
        try c.encode(spec.baseModel, forKey: .baseModel)
        try c.encode(job.datasetID, forKey: .dataset)
        try c.encode(spec.outputName, forKey: .outputName)
        try c.encode(spec.triggerWord, forKey: .triggerWord)
        try c.encode(JSONValue.object(spec.form), forKey: .params)
        try c.encode(job.resources.rawValue, forKey: .resources)
        try c.encode(job.attempts, forKey: .attempts)
        try c.encode(job.checkpoint?.step, forKey: .checkpointStep)
        try c.encode(APITime.format(job.createdAt), forKey: .createdAt)
        try c.encode(APITime.format(job.startedAt), forKey: .startedAt)
        try c.encode(APITime.format(job.finishedAt), forKey: .finishedAt)
    }
}

/// A crop or tag job as `GET /v1/jobs/{id}` shows it.
struct JobResource: Encodable {
    let job: TrainingJob

    enum CodingKeys: String, CodingKey {
        case id, kind, status, progress, dataset, params, error, attempts
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job.id, forKey: .id)
        try c.encode(job.kind.rawValue, forKey: .kind)
        try c.encode(job.status.rawValue, forKey: .status)
        try c.encode(job.progress, forKey: .progress)
        try c.encode(job.datasetID, forKey: .dataset)
        try c.encode(job.params, forKey: .params)
        try c.encode(job.error, forKey: .error)
        try c.encode(job.attempts, forKey: .attempts)
        try c.encode(APITime.format(job.createdAt), forKey: .createdAt)
        try c.encode(APITime.format(job.startedAt), forKey: .startedAt)
        try c.encode(APITime.format(job.finishedAt), forKey: .finishedAt)
    }
}

/// One event of a training's `/events` stream.
struct JobEventResource: Encodable {
    let event: JobEvent

    enum CodingKeys: String, CodingKey {
        case id, status, progress, step, loss, at
        case totalSteps = "total_steps"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event.jobID, forKey: .id)
        try c.encode(event.status.rawValue, forKey: .status)
        try c.encode(event.progress, forKey: .progress)
        try c.encode(event.step, forKey: .step)
        try c.encode(event.totalSteps, forKey: .totalSteps)
        try c.encode(event.loss, forKey: .loss)
        try c.encode(APITime.format(event.at), forKey: .at)
    }
}

/// The training object as bytes, for webhook bodies.
public enum TrainingJSON {
    public static func encode(_ job: TrainingJob) throws -> [UInt8] {
        Array(buffer: try JSONBody.encode(TrainingResource(job)))
    }
}
