import Foundation

/// The model catalogue: what tenants may see, and imports of catalogue files (read by MuseInfra).
public struct CatalogService: Sendable {
    let store: any ModelStore

    public init(store: any ModelStore) {
        self.store = store
    }

    public func models(for caller: Caller, kind: ModelKind?, base: BaseModel?, source: ModelSource?) async throws -> [Model] {
        try await store.models(kind: kind, base: base, source: source).filter { $0.isVisible(to: caller) }
    }

    /// The model, or a 404 when it does not exist or the caller may not see it.
    public func model(key: String, for caller: Caller) async throws -> Model {
        guard let model = try await store.model(key: key), model.isVisible(to: caller) else {
            throw ServiceError.notFound("no model \"\(key)\"")
        }
        return model
    }

    /// Imports (inserts or updates) models, as read from a catalogue file; returns how many.
    @discardableResult
    public func importModels(_ models: [Model]) async throws -> Int {
        try await store.upsert(models)
        return models.count
    }

    /// On first start only (an empty catalogue): imports what `load` reads.
    @discardableResult
    public func importIfEmpty(_ load: () throws -> [Model]) async throws -> Int {
        guard try await store.count() == 0 else { return 0 }
        return try await importModels(load())
    }
}
