import Foundation
import MuseJSON
import MuseWorkerProtocol

/// Fills a request's missing fields (model defaults, then global defaults) and checks every
/// field against the model's and the config's limits. All problems are reported at once.
public struct ParamsResolver: Sendable {
    public let limits: GenerationLimits

    public init(limits: GenerationLimits) {
        self.limits = limits
    }

    /// - Parameters:
    ///   - checkpoint: the catalogue entry for `request.model`, if it exists and the caller may use it.
    ///   - loras: the catalogue entries for the request's LoRA keys that exist and are visible.
    ///   - randomSeed: the seed to use when the request names none.
    public func resolve(
        _ request: GenerationRequest, checkpoint: Model?, loras: [String: Model], randomSeed: Int64
    ) throws(InvalidInput) -> GenerationParams {
        var errors: [InvalidInput.Problem] = []
        func fail(_ field: String, _ message: String) { errors.append(InvalidInput.Problem(field: field, message: message)) }

        guard let checkpoint, checkpoint.kind == .checkpoint else {
            let message = checkpoint == nil ? "unknown model \"\(request.model)\"" : "\"\(request.model)\" is a LoRA, not a checkpoint"
            throw InvalidInput("model", message)
        }
        let defaults = checkpoint.defaultParams

        let prompt = request.prompt
        if prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { fail("prompt", "must not be empty") }
        let negativePrompt = request.negativePrompt ?? defaults.negativePrompt ?? ""
        for (field, text) in [("prompt", prompt), ("negative_prompt", negativePrompt)] {
            // Unicode scalars, not graphemes: one "character" can carry thousands of combining marks.
            if text.unicodeScalars.count > limits.maxPromptChars { fail(field, "must be at most \(limits.maxPromptChars) characters (Unicode scalars)") }
            // A worker's C code would end the text at a NUL: refused rather than silently cut.
            if text.utf8.contains(0) { fail(field, "must not contain NUL") }
        }

        let fallbackSize = checkpoint.base == .sdxl ? 1024 : 512
        let width = request.width ?? defaults.width ?? fallbackSize
        let height = request.height ?? defaults.height ?? fallbackSize
        for (field, value) in [("width", width), ("height", height)] {
            if value % 8 != 0 {
                fail(field, "must be a multiple of 8")
            } else if !(checkpoint.minSize...checkpoint.maxSize).contains(value) {
                fail(field, "must be between \(checkpoint.minSize) and \(checkpoint.maxSize) for \(checkpoint.key)")
            }
        }

        let steps = request.steps ?? defaults.steps ?? 30
        if !(limits.minSteps...limits.maxSteps).contains(steps) { fail("steps", "must be between \(limits.minSteps) and \(limits.maxSteps)") }
        let guidance = request.guidanceScale ?? defaults.guidanceScale ?? 7.0
        if !(limits.minGuidance...limits.maxGuidance).contains(guidance) {
            fail("guidance_scale", "must be between \(limits.minGuidance) and \(limits.maxGuidance)")
        }

        let samplerName = request.sampler ?? defaults.sampler ?? Sampler.eulerA.rawValue
        let sampler = Sampler(rawValue: samplerName)
        if sampler == nil { fail("sampler", "must be one of \(Sampler.allCases.map(\.rawValue).joined(separator: ", "))") }

        let numImages = request.numImages ?? 1
        if !(1...limits.maxNumImages).contains(numImages) { fail("num_images", "must be between 1 and \(limits.maxNumImages)") }

        let seed = request.seed ?? randomSeed
        if seed < 0 || seed > Int64(UInt32.max) { fail("seed", "must be between 0 and \(UInt32.max)") }

        let requestedLoRAs = request.loras ?? []
        if requestedLoRAs.count > limits.maxLoRAs { fail("loras", "at most \(limits.maxLoRAs) LoRAs") }
        for (i, lora) in requestedLoRAs.enumerated() {
            guard let model = loras[lora.key] else {
                fail("loras[\(i)].key", "unknown LoRA \"\(lora.key)\"")
                continue
            }
            if model.kind != .lora { fail("loras[\(i)].key", "\"\(lora.key)\" is a checkpoint, not a LoRA") }
            if model.base != checkpoint.base {
                fail("loras[\(i)].key", "\"\(lora.key)\" is for \(model.base.rawValue), the model is \(checkpoint.base.rawValue)")
            }
            if !(-2.0...2.0).contains(lora.weight) { fail("loras[\(i)].weight", "must be between -2 and 2") }
        }

        let strength = request.strength ?? 0.75
        if !(0.0...1.0).contains(strength) { fail("strength", "must be between 0 and 1") }
        if let initImage = request.initImage, !Self.isImageReference(initImage) {
            // No URLs: a worker fetching what a client names would reach whatever the worker can.
            fail("init_image", "must be an img_… id or a data:image/png or data:image/jpeg base64 URL of at most \(Self.maxInitImageChars) characters")
        }

        let priority = Priority(rawValue: request.priority ?? "online")
        if priority == nil { fail("priority", "must be online or offline") }
        let schedule = Schedule(rawValue: request.schedule ?? "now")
        if schedule == nil { fail("schedule", "must be now or offpeak") }
        if let url = request.webhookURL, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            fail("webhook_url", "must be an http or https URL")
        }
        let metadata = request.metadata ?? .object([])
        if case .object = metadata {} else { fail("metadata", "must be an object") }
        if Self.encodedSize(metadata, limit: Self.maxMetadataBytes) > Self.maxMetadataBytes {
            fail("metadata", "at most \(Self.maxMetadataBytes) bytes as JSON")
        } else if let path = Self.nonFiniteNumber(in: metadata, at: "metadata") {
            fail(path, "must be a finite number of at most 1.8e308")
        }

        guard errors.isEmpty, let sampler, let priority, let schedule else {
            throw InvalidInput(problems: errors)
        }
        return GenerationParams(
            model: checkpoint.key, prompt: prompt, negativePrompt: negativePrompt, width: width, height: height,
            steps: steps, guidanceScale: guidance, sampler: sampler, seed: seed, numImages: numImages, loras: requestedLoRAs,
            initImage: request.initImage, strength: strength, priority: priority, schedule: schedule,
            webhookURL: request.webhookURL, metadata: metadata
        )
    }

    /// The largest `init_image` data URL, in characters (about 6 MiB of image).
    public static let maxInitImageChars = 8 << 20
    /// The largest `metadata`, as JSON: it is stored with the task and sent with every webhook.
    public static let maxMetadataBytes = 16 << 10

    static func isImageReference(_ value: String) -> Bool {
        if IDGenerator.isID(value, prefix: "img") { return true }
        guard value.utf8.count <= maxInitImageChars else { return false }
        // The bytes must be what the URL says: padded base64 whose first bytes are the PNG or JPEG signature.
        for (prefix, signature) in [("data:image/png;base64,", "iVBORw0KGgo"), ("data:image/jpeg;base64,", "/9j/")] where value.hasPrefix(prefix) {
            let payload = value.dropFirst(prefix.count)
            return payload.hasPrefix(signature) && WorkerResult.isPaddedBase64(String(payload))
        }
        return false
    }

    /// The path of the first number that is not a finite Double (`1e999`): free-form JSON is
    /// kept as written, and such a number could not be written back out.
    static func nonFiniteNumber(in value: JSONValue, at path: String) -> String? {
        switch value {
        case .number(let text): return Double(text)?.isFinite == true ? nil : path
        case .array(let items):
            for (i, item) in items.enumerated() { if let found = nonFiniteNumber(in: item, at: "\(path)[\(i)]") { return found } }
            return nil
        case .object(let members):
            for member in members { if let found = nonFiniteNumber(in: member.value, at: "\(path).\(member.key)") { return found } }
            return nil
        case .null, .bool, .string: return nil
        }
    }

    /// About the JSON size of `value` (strings counted unescaped), stopping once past `limit`.
    static func encodedSize(_ value: JSONValue, limit: Int) -> Int {
        switch value {
        case .null: return 4
        case .bool: return 5
        case .number(let text): return text.utf8.count
        case .string(let text): return text.utf8.count + 2
        case .array(let items):
            var size = 2
            for item in items where size <= limit { size += encodedSize(item, limit: limit) + 1 }
            return size
        case .object(let members):
            var size = 2
            for member in members where size <= limit { size += member.key.utf8.count + 4 + encodedSize(member.value, limit: limit) }
            return size
        }
    }
}
