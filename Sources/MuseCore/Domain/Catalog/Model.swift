import Foundation
import MuseJSON

/// Which diffusion family a model belongs to; a LoRA only applies to checkpoints of its base.
public enum BaseModel: String, Sendable, Codable, CaseIterable {
    case sd15
    case sdxl
}

/// A catalogue entry's kind.
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    case checkpoint
    case lora
}

/// Who can see a model.
public enum ModelSource: String, Sendable, Codable, CaseIterable {
    case `public`
    case team
    case `private`
}

/// The defaults and limits a checkpoint imposes on generation parameters.
public struct ModelDefaults: Sendable, Codable, Equatable {
    public var width: Int?
    public var height: Int?
    public var steps: Int?
    public var guidanceScale: Double?
    public var sampler: String?
    public var negativePrompt: String?

    enum CodingKeys: String, CodingKey {
        case width, height, steps, sampler
        case guidanceScale = "guidance_scale"
        case negativePrompt = "negative_prompt"
    }

    public init(width: Int? = nil, height: Int? = nil, steps: Int? = nil, guidanceScale: Double? = nil, sampler: String? = nil, negativePrompt: String? = nil) {
        self.width = width
        self.height = height
        self.steps = steps
        self.guidanceScale = guidanceScale
        self.sampler = sampler
        self.negativePrompt = negativePrompt
    }
}

/// A model of the catalogue: a checkpoint to generate with, or a LoRA to apply to one.
public struct Model: Sendable, Equatable {
    public var key: String
    public var name: String
    public var kind: ModelKind
    public var base: BaseModel
    public var source: ModelSource
    public var version: String
    public var triggerWords: [String]
    public var defaultParams: ModelDefaults
    /// Smallest and largest width and height, in pixels (multiples of 8).
    public var minSize: Int
    public var maxSize: Int
    /// The tenant a `private` model belongs to; the team a `team` model belongs to.
    public var owner: String?
    public var createdAt: Date

    public init(
        key: String, name: String, kind: ModelKind, base: BaseModel, source: ModelSource = .public, version: String = "1",
        triggerWords: [String] = [], defaultParams: ModelDefaults = ModelDefaults(), minSize: Int? = nil, maxSize: Int? = nil,
        owner: String? = nil, createdAt: Date = Date()
    ) {
        self.key = key
        self.name = name
        self.kind = kind
        self.base = base
        self.source = source
        self.version = version
        self.triggerWords = triggerWords
        self.defaultParams = defaultParams
        self.minSize = minSize ?? (base == .sdxl ? 512 : 256)
        self.maxSize = maxSize ?? (base == .sdxl ? 2048 : 1024)
        self.owner = owner
        self.createdAt = createdAt
    }

    /// Whether `caller` may use or see this model: a public one always, a team one when the caller
    /// is a member of its team, a private one when the caller owns it.
    public func isVisible(to caller: Caller) -> Bool {
        switch source {
        case .public: true
        case .team: owner.map(caller.teams.contains) ?? false
        case .private: owner == caller.tenant
        }
    }
}
