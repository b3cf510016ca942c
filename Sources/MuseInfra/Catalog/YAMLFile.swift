import Foundation
import Yams

/// A config file in YAML decoded into its type, with errors that name the file and the field.
public enum YAMLFile {
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String, source: String) throws -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ParseError(description: "\(source): \(path(context.codingPath + [key])) is required")
        } catch let DecodingError.dataCorrupted(context) {
            throw ParseError(description: "\(source): \(path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ParseError(description: "\(source): \(path(context.codingPath)): wrong type")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
