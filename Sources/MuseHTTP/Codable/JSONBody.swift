import Foundation
import HTTPTypes
import NIOCore

/// Request-body decoding and response-body encoding in the wire format of API.md.
public enum JSONBody {
    private static let decoder = StrictJSONDecoder()

    /// Decodes a JSON request body: 415 unless `Content-Type` is `application/json`,
    /// 400 naming the field for malformed JSON, wrong types, missing or unknown fields.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request) throws(HTTPError) -> T {
        guard isJSON(request.head.headerFields[.contentType]) else {
            throw HTTPError(.unsupportedMediaType, detail: "Content-Type must be application/json")
        }
        return try decoder.decode(type, from: Array(buffer: request.body))
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// Encodes a value; wire types spell their snake_case keys in `CodingKeys`.
    public static func encode<T: Encodable>(_ value: T) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return ByteBuffer(bytes: try encoder.encode(value))
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let text):
            var c = encoder.singleValueContainer()
            if let i = Int64(text) { try c.encode(i) } else { try c.encode(Double(text) ?? 0) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let elements):
            var c = encoder.unkeyedContainer()
            for e in elements { try c.encode(e) }
        case .object(let members):
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            for m in members { try c.encode(m.value, forKey: AnyCodingKey(m.key)) }
        }
    }
}
