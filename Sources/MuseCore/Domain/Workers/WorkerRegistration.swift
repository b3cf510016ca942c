import Foundation

/// What a worker says about itself when it registers (WORKER-PROTOCOL.md).
public struct WorkerRegistration: Sendable, Codable, Equatable {
    public var workerID: String
    public var url: String
    public var abilities: [String]
    public var maxBatch: Int
    public var slots: Int
    public var modelsLoaded: [String]
    public var version: String?

    enum CodingKeys: String, CodingKey {
        case url, abilities, slots, version
        case workerID = "worker_id"
        case maxBatch = "max_batch"
        case modelsLoaded = "models_loaded"
        case gpu
    }

    public init(workerID: String, url: String, abilities: [String], maxBatch: Int, slots: Int, modelsLoaded: [String], version: String?) {
        self.workerID = workerID
        self.url = url
        self.abilities = abilities
        self.maxBatch = maxBatch
        self.slots = slots
        self.modelsLoaded = modelsLoaded
        self.version = version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workerID = try c.decode(String.self, forKey: .workerID)
        url = try c.decode(String.self, forKey: .url)
        abilities = try c.decode([String].self, forKey: .abilities)
        maxBatch = try c.decodeIfPresent(Int.self, forKey: .maxBatch) ?? 1
        slots = try c.decodeIfPresent(Int.self, forKey: .slots) ?? 1
        modelsLoaded = try c.decodeIfPresent([String].self, forKey: .modelsLoaded) ?? []
        version = try c.decodeIfPresent(String.self, forKey: .version)
        // Informational; read so that it is not an unknown field.
        _ = try c.decodeIfPresent(GPU.self, forKey: .gpu)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workerID, forKey: .workerID)
        try c.encode(url, forKey: .url)
        try c.encode(abilities, forKey: .abilities)
        try c.encode(maxBatch, forKey: .maxBatch)
        try c.encode(slots, forKey: .slots)
        try c.encode(modelsLoaded, forKey: .modelsLoaded)
        try c.encodeIfPresent(version, forKey: .version)
    }

    struct GPU: Codable {
        var name: String?
        var memoryMB: Int?

        enum CodingKeys: String, CodingKey {
            case name
            case memoryMB = "memory_mb"
        }
    }
}

/// A heartbeat's body.
public struct WorkerHeartbeat: Sendable, Codable, Equatable {
    public var busy: Double
    public var running: [String]
    public var modelsLoaded: [String]
    public var queue: Int

    enum CodingKeys: String, CodingKey {
        case busy, running, queue
        case modelsLoaded = "models_loaded"
    }

    public init(busy: Double, running: [String], modelsLoaded: [String], queue: Int) {
        self.busy = busy
        self.running = running
        self.modelsLoaded = modelsLoaded
        self.queue = queue
    }
}
