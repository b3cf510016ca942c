import MuseCore
import MuseHTTP
import MuseInfra

/// `/v1/models`: the catalogue a tenant may use.
public struct ModelsController: Sendable {
    let catalog: CatalogService

    public init(catalog: CatalogService) {
        self.catalog = catalog
    }

    public func register(on routes: RouteGroup) {
        routes.get("/v1/models") { request, context in
            let kind = try Self.parse(request.query["type"], "type", ModelKind.self)
            let base = try Self.parse(request.query["base"], "base", BaseModel.self)
            let source = try Self.parse(request.query["source"], "source", ModelSource.self)
            let models = try await catalog.models(for: try context.caller(), kind: kind, base: base, source: source)
            return try .json(ListResource(data: models.map(ModelResource.init), nextCursor: nil))
        }
        routes.get("/v1/models/{key}") { request, context in
            try .json(ModelResource(try await catalog.model(key: try request.parameters.require("key"), for: try context.caller())))
        }
    }

    static func parse<T: RawRepresentable & CaseIterable>(_ raw: String?, _ field: String, _ type: T.Type) throws(HTTPError) -> T? where T.RawValue == String {
        guard let raw else { return nil }
        guard let value = T(rawValue: raw) else {
            throw HTTPError.invalidField(field, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
