/// Limits on generation parameters that are not the model's own (config: `generation.*`).
public struct GenerationLimits: Sendable, Equatable {
    public var maxPromptChars = 2000
    public var minSteps = 1
    public var maxSteps = 150
    public var minGuidance = 0.0
    public var maxGuidance = 30.0
    public var maxNumImages = 8
    public var maxLoRAs = 5

    public init() {}
}
