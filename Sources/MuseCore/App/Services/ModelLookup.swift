import Foundation
import Synchronization

/// Catalogue lookups for the submit path, cached for `ttl`: every submit reads its model and
/// LoRAs, and the catalogue changes rarely (an import shows within `ttl`).
final class ModelLookup: Sendable {
    private let store: any ModelStore
    private let ttl: TimeInterval
    private let cache = Mutex<[String: (model: Model?, fetched: Date)]>([:])

    init(store: any ModelStore, ttl: TimeInterval = 5) {
        self.store = store
        self.ttl = ttl
    }

    /// The most keys kept: unknown keys are cached too, and a client chooses them.
    static let capacity = 4096

    func model(_ key: String) async throws -> Model? {
        let now = Date()
        if let hit = cache.withLock({ $0[key] }), now.timeIntervalSince(hit.fetched) < ttl { return hit.model }
        let model = try await store.model(key: key)
        cache.withLock { cache in
            if cache.count >= Self.capacity {
                cache = cache.filter { now.timeIntervalSince($0.value.fetched) < ttl }
                if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
            }
            cache[key] = (model, now)
        }
        return model
    }
}
