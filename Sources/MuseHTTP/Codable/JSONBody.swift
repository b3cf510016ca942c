import Foundation
import HTTPTypes
import NIOCore

/// Request-body decoding and response-body encoding in the wire format of docs/API.md.
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
        ByteBuffer(bytes: try CompactJSONEncoder().encode(value))
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

extension JSONBody {
    /// The request body as a JSON value, for bodies whose shape depends on their content:
    /// 415 unless JSON, 400 when malformed.
    public static func value(from request: Request) throws(HTTPError) -> JSONValue {
        guard isJSON(request.head.headerFields[.contentType]) else {
            throw HTTPError(.unsupportedMediaType, detail: "Content-Type must be application/json")
        }
        return try parse(Array(buffer: request.body))
    }

    public static func parse(_ bytes: [UInt8]) throws(HTTPError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw HTTPError(.invalidArgument, detail: "malformed JSON at byte \(error.offset): \(error.message)")
        }
    }

    /// A value as the JSON document it encodes to.
    public static func value<T: Encodable>(of value: T) throws -> JSONValue {
        try parse(Array(buffer: encode(value)))
    }

    /// Decodes a value strictly (unknown fields, wrong types and missing fields are 400s naming the field).
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(HTTPError) -> T {
        try decoder.decode(type, from: value)
    }
}

extension JSONValue {
    /// The value of member `key` of an object; nil for other values or a missing member.
    public subscript(member key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}
