/// JSON documents in and out: strict decoding (unknown, mistyped and missing fields are
/// `InvalidInput` naming the field) and compact encoding with the keys a type spells.
public enum JSON {
    private static let decoder = StrictJSONDecoder()

    /// Parses a document; malformed JSON is `InvalidInput` giving the byte offset.
    public static func parse(_ bytes: [UInt8]) throws(InvalidInput) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw InvalidInput(detail: "malformed JSON at byte \(error.offset): \(error.message)")
        }
    }

    /// Parses and decodes a document strictly.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(InvalidInput) -> T {
        try decoder.decode(type, from: bytes)
    }

    /// Decodes a parsed value strictly.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(InvalidInput) -> T {
        try decoder.decode(type, from: value)
    }

    /// Encodes a value; wire types spell their snake_case keys in `CodingKeys`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try CompactJSONEncoder().encode(value)
    }

    /// A value as the JSON document it encodes to.
    public static func value<T: Encodable>(of value: T) throws -> JSONValue {
        try parse(encode(value))
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

extension JSONValue {
    /// The value of member `key` of an object; nil for other values or a missing member.
    public subscript(member key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}
