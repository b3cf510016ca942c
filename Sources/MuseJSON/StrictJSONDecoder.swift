/// Decodes `Decodable` values from a `JSONValue` and rejects any member the type did not read,
/// so a misspelled field is a 400 naming it instead of being silently ignored.
public struct StrictJSONDecoder: Sendable {
    public init() {}

    /// Parses and decodes; every failure is `InvalidInput`, naming the field where there is one.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(InvalidInput) -> T {
        try decode(type, from: JSON.parse(bytes))
    }

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(InvalidInput) -> T {
        let tracker = AccessTracker()
        let decoded: T
        do {
            decoded = try T(from: JSONValueDecoder(value: value, codingPath: [], tracker: tracker))
        } catch let error as InvalidInput {
            throw error
        } catch let error as DecodingError {
            throw Self.fieldError(error)
        } catch {
            throw InvalidInput(detail: "invalid request body")
        }
        if let unknown = tracker.firstUnknownField() {
            throw InvalidInput(unknown, "unknown field")
        }
        return decoded
    }

    static func fieldError(_ error: DecodingError) -> InvalidInput {
        switch error {
        case .typeMismatch(_, let context):
            return InvalidInput(JSONPath.format(context.codingPath), context.debugDescription)
        case .valueNotFound(_, let context):
            return InvalidInput(JSONPath.format(context.codingPath), "must not be null")
        case .keyNotFound(let key, let context):
            return InvalidInput(JSONPath.format(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            return InvalidInput(JSONPath.format(context.codingPath), context.debugDescription)
        @unknown default:
            return InvalidInput(detail: "invalid request body")
        }
    }
}

/// Formats a coding path the way docs/API.md names fields: `loras[0].key`.
enum JSONPath {
    static func format(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == "\(index)" {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += key.stringValue
            }
        }
        return result.isEmpty ? "body" : result
    }
}

/// Remembers, for every JSON object decoded, which members the type read.
final class AccessTracker {
    private struct Entry {
        var path: [any CodingKey]
        var keys: [String]
        var read: Set<String> = []
    }

    private var entries: [String: Entry] = [:]

    func register(path: [any CodingKey], keys: [String]) -> String {
        let id = JSONPath.format(path)
        if entries[id] == nil { entries[id] = Entry(path: path, keys: keys) }
        return id
    }

    func markRead(_ key: String, in id: String) {
        entries[id]?.read.insert(key)
    }

    func firstUnknownField() -> String? {
        for id in entries.keys.sorted() {
            let entry = entries[id]!
            if let key = entry.keys.first(where: { !entry.read.contains($0) }) {
                return JSONPath.format(entry.path + [AnyCodingKey(key)])
            }
        }
        return nil
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) {
        stringValue = string
    }

    init?(stringValue: String) {
        self.stringValue = stringValue
    }

    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }
}

struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let tracker: AccessTracker
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "must be an object, not \(value.typeName)"))
        }
        let id = tracker.register(path: codingPath, keys: members.map(\.key))
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath, tracker: tracker, id: id))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "must be an array, not \(value.typeName)"))
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath, tracker: tracker)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, codingPath: codingPath, tracker: tracker)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: JSONValue)]
    let codingPath: [any CodingKey]
    let tracker: AccessTracker
    let id: String

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    private func lookup(_ key: Key) -> JSONValue? {
        tracker.markRead(key.stringValue, in: id)
        return members.first { $0.key == key.stringValue }?.value
    }

    func contains(_ key: Key) -> Bool {
        lookup(key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = lookup(key) else { return true }
        return value == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "is required"))
        }
        return try T(from: JSONValueDecoder(value: value, codingPath: codingPath + [key], tracker: tracker))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = lookup(key), value != .null else { return nil }
        return try T(from: JSONValueDecoder(value: value, codingPath: codingPath + [key], tracker: tracker))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try JSONValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key], tracker: tracker).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try JSONValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key], tracker: tracker).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        JSONValueDecoder(value: .object(members), codingPath: codingPath, tracker: tracker)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key], tracker: tracker)
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    let tracker: AccessTracker
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey], tracker: AccessTracker) {
        self.elements = elements
        self.codingPath = codingPath
        self.tracker = tracker
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> JSONValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array too short"))
        }
        defer { currentIndex += 1 }
        return JSONValueDecoder(value: elements[currentIndex], codingPath: codingPath + [AnyCodingKey(intValue: currentIndex)], tracker: tracker)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: next())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let tracker: AccessTracker

    private func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "must be \(expected), not \(value.typeName)"))
    }

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch("a boolean") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch("a string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let text) = value else { throw mismatch("a number") }
        guard let d = Double(text), d.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "must be a finite number of at most 1.8e308"))
        }
        return d
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .number(let text) = value else { throw mismatch("an integer") }
        if let exact = I(text) { return exact }
        if let d = Double(text), d.rounded() == d, let i = I(exactly: d) { return i }
        throw DecodingError.typeMismatch(I.self, .init(codingPath: codingPath, debugDescription: "must be an integer in range"))
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        return try T(from: JSONValueDecoder(value: value, codingPath: codingPath, tracker: tracker))
    }
}

extension JSONValue: Decodable {
    /// A `JSONValue` field takes any JSON as it is (e.g. free-form `metadata`).
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? JSONValueDecoder {
            // Free-form: no container is made, so its members are never "unknown fields".
            self = decoder.value
            return
        }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "JSONValue decodes only with StrictJSONDecoder"))
    }
}
