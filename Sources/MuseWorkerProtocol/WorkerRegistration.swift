import Foundation
import MuseJSON

/// What a worker says about itself when it registers (docs/WORKER-PROTOCOL.md).
public struct WorkerRegistration: Sendable, Codable, Equatable {
    public var workerID: String
    public var url: String
    public var abilities: [String]
    public var maxBatch: Int
    public var slots: Int
    /// Crop, tag and training jobs it runs at once, counted apart from `slots` (generation), so a
    /// long training never holds a generation slot (an extension of the protocol; default 1).
    public var trainSlots: Int
    public var modelsLoaded: [String]
    public var version: String?
    /// The GPU's memory as reported (informational).
    var gpuMemoryMB: Int?

    enum CodingKeys: String, CodingKey {
        case url, abilities, slots, version
        case workerID = "worker_id"
        case maxBatch = "max_batch"
        case modelsLoaded = "models_loaded"
        case trainSlots = "train_slots"
        case gpu
    }

    public init(
        workerID: String, url: String, abilities: [String], maxBatch: Int, slots: Int, trainSlots: Int = 1, modelsLoaded: [String], version: String?
    ) {
        self.workerID = workerID
        self.url = url
        self.abilities = abilities
        self.maxBatch = maxBatch
        self.slots = slots
        self.trainSlots = trainSlots
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
        trainSlots = try c.decodeIfPresent(Int.self, forKey: .trainSlots) ?? 1
        modelsLoaded = try c.decodeIfPresent([String].self, forKey: .modelsLoaded) ?? []
        version = try c.decodeIfPresent(String.self, forKey: .version)
        // Informational; read so that it is not an unknown field, and checked like the rest.
        gpuMemoryMB = try c.decodeIfPresent(GPU.self, forKey: .gpu)?.memoryMB
    }

    /// The checks a registration must pass: a usable id and a URL the server can call.
    public func check() throws(InvalidInput) {
        guard Self.isWorkerID(workerID) else { throw InvalidInput("worker_id", Self.workerIDRule) }
        guard url.unicodeScalars.count <= 2048 else { throw InvalidInput("url", "at most 2048 characters") }
        guard abilities.count <= 16, abilities.allSatisfy({ (1...32).contains($0.utf8.count) && $0.utf8.allSatisfy(Self.abilityBytes.contains) }) else {
            throw InvalidInput("abilities", "at most 16, each 1 to 32 characters of a-z, 0-9, '_'")
        }
        try Self.checkModels(modelsLoaded)
        guard (version?.unicodeScalars.count ?? 0) <= 64 else { throw InvalidInput("version", "at most 64 characters") }
        // The same rule as openapi.yaml states: scheme, host name or address, optional port and plain path.
        let pattern = #"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"#
        guard (try? Regex(pattern).wholeMatch(in: url)) != nil else {
            throw InvalidInput("url", "must be an absolute http or https URL: host or [IPv6], optional port, plain path")
        }
        guard (1...64).contains(maxBatch) else { throw InvalidInput("max_batch", "must be from 1 to 64") }
        guard (1...64).contains(slots) else { throw InvalidInput("slots", "must be from 1 to 64") }
        guard (1...64).contains(trainSlots) else { throw InvalidInput("train_slots", "must be from 1 to 64") }
        if let memory = gpuMemoryMB, !(0...Int(Int32.max)).contains(memory) {
            throw InvalidInput("gpu.memory_mb", "must be from 0 to \(Int32.max)")
        }
    }

    /// 1 to 128 of `A-Za-z0-9._-`, the first alphanumeric: an id is a path segment, and `.` or
    /// `..` is not a canonical one.
    public static func isWorkerID(_ id: String) -> Bool {
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ idBytes.contains($0) }), let first = id.utf8.first else { return false }
        return first != UInt8(ascii: ".") && first != UInt8(ascii: "_") && first != UInt8(ascii: "-")
    }

    /// A worker's loaded models: bounded, since each becomes a scheduling key and a metric label.
    static func checkModels(_ models: [String]) throws(InvalidInput) {
        guard models.count <= 256, models.allSatisfy({ (1...128).contains($0.unicodeScalars.count) }) else {
            throw InvalidInput("models_loaded", "at most 256 models, each 1 to 128 characters")
        }
    }

    private static let abilityBytes = Set("abcdefghijklmnopqrstuvwxyz0123456789_".utf8)

    public static let workerIDRule = "1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-', starting with a letter or digit"

    private static let idBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".utf8)

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workerID, forKey: .workerID)
        try c.encode(url, forKey: .url)
        try c.encode(abilities, forKey: .abilities)
        try c.encode(maxBatch, forKey: .maxBatch)
        try c.encode(slots, forKey: .slots)
        try c.encode(trainSlots, forKey: .trainSlots)
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

extension WorkerHeartbeat {
    /// The bounds openapi.yaml states.
    public func check() throws(InvalidInput) {
        guard (0...1).contains(busy) else { throw InvalidInput("busy", "must be from 0 to 1") }
        guard (0...1_000_000).contains(queue) else { throw InvalidInput("queue", "must be from 0 to 1000000") }
        guard running.count <= 4096, running.allSatisfy({ $0.unicodeScalars.count <= 64 }) else {
            throw InvalidInput("running", "at most 4096 attempt ids of at most 64 characters")
        }
        try WorkerRegistration.checkModels(modelsLoaded)
    }
}
