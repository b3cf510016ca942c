import Foundation
import MuseCore
import Yams

/// A catalogue file in the format of `config/models.yaml`, read into models (the checks a file
/// must pass included: unique keys, sizes multiples of 8).
public enum CatalogFile {
    /// Reads and parses the file at `path`.
    public static func read(_ path: String) throws -> [Model] {
        try parse(String(contentsOfFile: path, encoding: .utf8), source: path)
    }

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
        /// The team of a `team` model.
        var team: String?
        /// The tenant of a `private` model.
        var owner: String?

        enum CodingKeys: String, CodingKey {
            case key, name, type, source, version, team, owner
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

    public typealias ParseError = YAMLFile.ParseError

    public static func parse(_ text: String, source: String) throws -> [Model] {
        let file = try YAMLFile.decode(File.self, from: text, source: source)
        var seen = Set<String>()
        return try file.models.map { entry in
            guard seen.insert(entry.key).inserted else { throw ParseError(description: "\(source): model \"\(entry.key)\" listed twice") }
            let model = Model(
                key: entry.key, name: entry.name, kind: entry.type, base: entry.baseModel, source: entry.source ?? .public,
                version: entry.version ?? "1", triggerWords: entry.triggerWords ?? [], defaultParams: entry.defaultParams ?? ModelDefaults(),
                minSize: entry.minSize, maxSize: entry.maxSize, owner: try owner(of: entry, in: source)
            )
            guard model.minSize % 8 == 0, model.maxSize % 8 == 0, model.minSize <= model.maxSize else {
                throw ParseError(description: "\(source): model \"\(entry.key)\": min_size and max_size must be multiples of 8, min ≤ max")
            }
            return model
        }
    }

    /// A team model names its team, a private one its owner, a public one neither: a team model
    /// without a team would be visible to no one, and a public one with an owner is a mistake.
    private static func owner(of entry: Entry, in source: String) throws -> String? {
        let problem = { (text: String) in ParseError(description: "\(source): model \"\(entry.key)\": \(text)") }
        switch entry.source ?? .public {
        case .public:
            guard entry.team == nil, entry.owner == nil else { throw problem("a public model has no team or owner") }
            return nil
        case .team:
            guard let team = entry.team, entry.owner == nil, !team.isEmpty, team.count <= 128 else {
                throw problem("source: team needs team (1 to 128 characters) and no owner")
            }
            return team
        case .private:
            guard let owner = entry.owner, entry.team == nil, !owner.isEmpty, owner.count <= 128 else {
                throw problem("source: private needs owner (1 to 128 characters) and no team")
            }
            return owner
        }
    }
}
