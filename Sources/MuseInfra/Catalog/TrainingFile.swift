import Foundation
import MuseCore

/// The training definitions in the format of `config/training.yaml`: the dataset categories
/// (unique keys, a key being a short lowercase word).
public enum TrainingFile {
    /// What the file defines.
    public struct Definitions: Sendable {
        public let datasetCategories: [DatasetCategory]
    }

    struct File: Decodable {
        var datasetCategories: [DatasetCategory]

        enum CodingKeys: String, CodingKey {
            case datasetCategories = "dataset_categories"
        }
    }

    public static func read(_ path: String) throws -> Definitions {
        try parse(String(contentsOfFile: path, encoding: .utf8), source: path)
    }

    public static func parse(_ text: String, source: String) throws -> Definitions {
        let file = try YAMLFile.decode(File.self, from: text, source: source)
        guard !file.datasetCategories.isEmpty else { throw YAMLFile.ParseError(description: "\(source): dataset_categories is empty") }
        var seen = Set<String>()
        for category in file.datasetCategories {
            guard (1...32).contains(category.key.count), category.key.allSatisfy({ ("a"..."z").contains($0) || $0 == "_" || $0.isNumber }) else {
                throw YAMLFile.ParseError(description: "\(source): dataset category \"\(category.key)\": a key is 1 to 32 of a–z, 0–9 and _")
            }
            guard seen.insert(category.key).inserted else {
                throw YAMLFile.ParseError(description: "\(source): dataset category \"\(category.key)\" listed twice")
            }
        }
        return Definitions(datasetCategories: file.datasetCategories)
    }
}
