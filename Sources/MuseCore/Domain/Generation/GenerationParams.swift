import MuseJSON
import MuseWorkerProtocol

/// What a client sends: only `model` and `prompt` are required; the rest is filled from the
/// model's `default_params`, then the global defaults.
public struct GenerationRequest: Sendable, Decodable, Equatable {
    public var model: String
    public var prompt: String
    public var negativePrompt: String?
    public var width: Int?
    public var height: Int?
    public var steps: Int?
    public var guidanceScale: Double?
    public var sampler: String?
    public var seed: Int64?
    public var numImages: Int?
    public var loras: [LoRAReference]?
    public var initImage: String?
    public var strength: Double?
    public var priority: String?
    public var schedule: String?
    public var webhookURL: String?
    public var metadata: JSONValue?

    /// The same fields on the wire as the resolved params.
    typealias CodingKeys = GenerationParams.CodingKeys

    public init(model: String, prompt: String) {
        self.model = model
        self.prompt = prompt
    }
}
