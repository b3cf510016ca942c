import MuseJSON

/// A LoRA applied to a generation, by catalogue key.
public struct LoRAReference: Sendable, Codable, Equatable {
    public var key: String
    public var weight: Double

    public init(key: String, weight: Double) {
        self.key = key
        self.weight = weight
    }
}

/// Whether a person waits (`online`) or a batch runs (`offline`).
public enum Priority: String, Sendable, Codable, CaseIterable {
    case online
    case offline
}

/// Run now, or hold for the off-peak window (or idle GPUs).
public enum Schedule: String, Sendable, Codable, CaseIterable {
    case now
    case offpeak
}

/// The samplers a worker understands.
public enum Sampler: String, Sendable, Codable, CaseIterable {
    case eulerA = "euler_a"
    case euler
    case ddim
    case dpmpp2m = "dpmpp_2m"
    case dpmpp2mKarras = "dpmpp_2m_karras"
    case heun
    case lms
}

/// The one unified parameter format: what a task stores once resolved (every field set),
/// what a worker receives, what `/params` gives back. It is the worker protocol's `params`, so
/// it lives here; the rules that fill it in (`ParamsResolver`) are MuseCore's.
public struct GenerationParams: Sendable, Codable, Equatable {
    public var model: String
    public var prompt: String
    public var negativePrompt: String
    public var width: Int
    public var height: Int
    public var steps: Int
    public var guidanceScale: Double
    public var sampler: Sampler
    public var seed: Int64
    public var numImages: Int
    public var loras: [LoRAReference]
    public var initImage: String?
    public var strength: Double
    public var priority: Priority
    public var schedule: Schedule
    public var webhookURL: String?
    public var metadata: JSONValue

    public init(
        model: String, prompt: String, negativePrompt: String, width: Int, height: Int, steps: Int, guidanceScale: Double, sampler: Sampler,
        seed: Int64, numImages: Int, loras: [LoRAReference], initImage: String?, strength: Double, priority: Priority, schedule: Schedule,
        webhookURL: String?, metadata: JSONValue
    ) {
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.width = width
        self.height = height
        self.steps = steps
        self.guidanceScale = guidanceScale
        self.sampler = sampler
        self.seed = seed
        self.numImages = numImages
        self.loras = loras
        self.initImage = initImage
        self.strength = strength
        self.priority = priority
        self.schedule = schedule
        self.webhookURL = webhookURL
        self.metadata = metadata
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, width, height, steps, sampler, seed, loras, strength, priority, schedule, metadata
        case negativePrompt = "negative_prompt"
        case guidanceScale = "guidance_scale"
        case numImages = "num_images"
        case initImage = "init_image"
        case webhookURL = "webhook_url"
    }

    /// Encodes `init_image` and `webhook_url` as `null` when absent: the resolved form names every field.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(negativePrompt, forKey: .negativePrompt)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(steps, forKey: .steps)
        try c.encode(guidanceScale, forKey: .guidanceScale)
        try c.encode(sampler, forKey: .sampler)
        try c.encode(seed, forKey: .seed)
        try c.encode(numImages, forKey: .numImages)
        try c.encode(loras, forKey: .loras)
        try c.encode(initImage, forKey: .initImage)
        try c.encode(strength, forKey: .strength)
        try c.encode(priority, forKey: .priority)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(webhookURL, forKey: .webhookURL)
        try c.encode(metadata, forKey: .metadata)
    }
}

extension GenerationParams {
    /// Jobs with the same key may run as one batch on a worker: same model, size, step count
    /// and LoRAs (docs/WORKER-PROTOCOL.md). img2img jobs never batch (nil).
    public var batchKey: String? {
        guard initImage == nil else { return nil }
        let loraPart = loras.map { "\($0.key)@\($0.weight)" }.sorted().joined(separator: ",")
        return "\(model)|\(width)x\(height)|\(steps)|\(loraPart)"
    }
}
