/// The model catalogue.
public protocol ModelStore: Sendable {
    /// Inserts or replaces by key.
    func upsert(_ models: [Model]) async throws
    func model(key: String) async throws -> Model?
    func models(kind: ModelKind?, base: BaseModel?, source: ModelSource?) async throws -> [Model]
    func count() async throws -> Int
}
