import Foundation
import MuseCore
import MuseJSON

/// The training definitions in the format of `config/training.yaml`: the dataset categories
/// (unique keys, a key being a short lowercase word) and a training form per base model (each
/// field's default passing its own checks, so a form can never refuse its own defaults).
public enum TrainingFile {
    /// What the file defines.
    public struct Definitions: Sendable {
        public let datasetCategories: [DatasetCategory]
        public let forms: [BaseModel: TrainingForm]
    }

    /// A scalar as YAML gives it: a default or a choice.
    struct Scalar: Decodable {
        let value: JSONValue

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let bool = try? c.decode(Bool.self) {
                value = .bool(bool)
            } else if let int = try? c.decode(Int64.self) {
                value = .number(String(int))
            } else if let double = try? c.decode(Double.self) {
                value = .number(String(double))
            } else {
                value = .string(try c.decode(String.self))
            }
        }
    }

    struct FieldEntry: Decodable {
        var key: String
        var type: String
        var `default`: Scalar
        var min: Double?
        var max: Double?
        var choices: [Scalar]?
        var label: String
        var help: String
    }

    struct File: Decodable {
        var datasetCategories: [DatasetCategory]
        var forms: [String: [FieldEntry]]

        enum CodingKeys: String, CodingKey {
            case forms
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
        var forms: [BaseModel: TrainingForm] = [:]
        for (name, entries) in file.forms {
            guard let base = BaseModel(rawValue: name) else {
                throw YAMLFile.ParseError(
                    description: "\(source): forms.\(name): not a base model (\(BaseModel.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            forms[base] = TrainingForm(base: base, fields: try fields(entries, in: "\(source): forms.\(name)"))
        }
        for base in BaseModel.allCases where forms[base] == nil {
            throw YAMLFile.ParseError(description: "\(source): forms.\(base.rawValue) is required")
        }
        return Definitions(datasetCategories: file.datasetCategories, forms: forms)
    }

    private static func fields(_ entries: [FieldEntry], in place: String) throws -> [TrainingForm.Field] {
        var seen = Set<String>()
        return try entries.map { entry in
            let problem = { (text: String) in YAMLFile.ParseError(description: "\(place): \(entry.key): \(text)") }
            guard let kind = TrainingForm.Field.Kind(rawValue: entry.type) else { throw problem("type is integer, number, boolean or string") }
            guard (1...64).contains(entry.key.count), entry.key.allSatisfy({ ("a"..."z").contains($0) || $0 == "_" || $0.isNumber }) else {
                throw problem("a key is 1 to 64 of a–z, 0–9 and _")
            }
            guard seen.insert(entry.key).inserted else { throw problem("listed twice") }
            guard kind != .string || entry.choices != nil else { throw problem("a string field lists its choices") }
            if let min = entry.min, let max = entry.max, min > max { throw problem("min is above max") }
            let field = TrainingForm.Field(
                key: entry.key, kind: kind, defaultValue: entry.default.value, minimum: entry.min, maximum: entry.max, choices: entry.choices?.map(\.value),
                label: entry.label, help: entry.help)
            for choice in field.choices ?? [] {
                if let why = TrainingForm.Field(
                    key: field.key, kind: kind, defaultValue: choice, minimum: field.minimum, maximum: field.maximum, label: "", help: ""
                )
                .problem(with: choice) {
                    throw problem("choice \(choice): \(why)")
                }
            }
            if let why = field.problem(with: field.defaultValue) { throw problem("the default \(why)") }
            return field
        }
    }
}
