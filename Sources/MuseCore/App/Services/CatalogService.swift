import Foundation
import MuseJSON
import Yams

/// The model catalogue: what tenants may see, and imports from a YAML file.
public struct CatalogService: Sendable {
    let store: any ModelStore

    public init(store: any ModelStore) {
        self.store = store
    }

    public func models(for tenant: String, kind: ModelKind?, base: BaseModel?, source: ModelSource?) async throws -> [Model] {
        try await store.models(kind: kind, base: base, source: source).filter { $0.isVisible(to: tenant) }
    }

    /// The model, or a 404 when it does not exist or the tenant may not see it.
    public func model(key: String, for tenant: String) async throws -> Model {
        guard let model = try await store.model(key: key), model.isVisible(to: tenant) else {
            throw ServiceError.notFound("no model \"\(key)\"")
        }
        return model
    }

    /// Imports (inserts or updates) every model of a catalogue file; returns how many.
    @discardableResult
    public func importFile(_ path: String) async throws -> Int {
        let models = try CatalogFile.parse(String(contentsOfFile: path, encoding: .utf8), source: path)
        try await store.upsert(models)
        return models.count
    }

    /// On first start only (an empty catalogue): imports the file at `path`, or with no path the
    /// catalogue built into the binary. A named file that is missing is an error: the operator meant it.
    @discardableResult
    public func importIfEmpty(_ path: String, builtIn: @autoclosure () -> String) async throws -> Int {
        guard try await store.count() == 0 else { return 0 }
        guard !path.isEmpty else {
            let models = try CatalogFile.parse(builtIn(), source: "the built-in catalogue")
            try await store.upsert(models)
            return models.count
        }
        return try await importFile(path)
    }
}

/// The format of `config/models.yaml`.
enum CatalogFile {
    struct Entry: Decodable {
        var key: String
        var name: String
        var type: ModelKind
        var baseModel: BaseModel
        var source: ModelSource?
        var version: String?
        var triggerWords: [String]?
        var defaultParams: ModelDefaults?
        var minSize: Int?
        var maxSize: Int?

        enum CodingKeys: String, CodingKey {
            case key, name, type, source, version
            case baseModel = "base_model"
            case triggerWords = "trigger_words"
            case defaultParams = "default_params"
            case minSize = "min_size"
            case maxSize = "max_size"
        }
    }

    struct File: Decodable {
        var models: [Entry]
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String, source: String) throws -> [Model] {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ParseError(description: "\(source): \(path(context.codingPath + [key])) is required")
        } catch let DecodingError.dataCorrupted(context) {
            throw ParseError(description: "\(source): \(path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ParseError(description: "\(source): \(path(context.codingPath)): wrong type")
        }
        var seen = Set<String>()
        return try file.models.map { entry in
            guard seen.insert(entry.key).inserted else { throw ParseError(description: "\(source): model \"\(entry.key)\" listed twice") }
            let model = Model(
                key: entry.key, name: entry.name, kind: entry.type, base: entry.baseModel, source: entry.source ?? .public,
                version: entry.version ?? "1", triggerWords: entry.triggerWords ?? [], defaultParams: entry.defaultParams ?? ModelDefaults(),
                minSize: entry.minSize, maxSize: entry.maxSize
            )
            guard model.minSize % 8 == 0, model.maxSize % 8 == 0, model.minSize <= model.maxSize else {
                throw ParseError(description: "\(source): model \"\(entry.key)\": min_size and max_size must be multiples of 8, min ≤ max")
            }
            return model
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
