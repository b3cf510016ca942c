import Foundation

/// Compact JSON from `Encodable` values, written while they encode: keys in encoding order, `/`
/// unescaped, and Foundation's default forms (Date as seconds since 2001, Data as base64, URL as
/// its absolute string, `7.0` as `7`); a non-finite number throws. Foundation's `JSONEncoder`
/// builds a tree first and casts every value dynamically; on the submit path that was a sixth
/// of the server's CPU.
public struct CompactJSONEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONStreamWriter()
        try writer.value(value, codingPath: [])
        return writer.bytes
    }
}

/// The output and the containers still open in it. A container a caller is done with is closed
/// lazily: when its parent writes again, or when the value that opened it has finished encoding.
final class JSONStreamWriter {
    enum Kind {
        case object, array
        /// Where one value goes (a document, a member, an element); `{}` if nothing is encoded into it.
        case slot
    }

    struct Frame {
        var kind: Kind
        var count = 0
    }

    private(set) var bytes: [UInt8] = []
    private(set) var frames: [Frame] = []

    init() {
        bytes.reserveCapacity(1024)
    }

    /// Closes every container above `depth`.
    func close(to depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            switch frame.kind {
            case .object: bytes.append(UInt8(ascii: "}"))
            case .array: bytes.append(UInt8(ascii: "]"))
            case .slot: if frame.count == 0 { bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")]) }
            }
        }
    }

    /// Starts the next member (with its key) or element of the container at `index`.
    func next(in index: Int, key: String?) {
        close(to: index + 1)
        if frames[index].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[index].count += 1
        if let key {
            string(key)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    /// Opens a container at the current position; returns its frame index.
    func open(_ kind: Kind) -> Int {
        switch kind {
        case .object: bytes.append(UInt8(ascii: "{"))
        case .array: bytes.append(UInt8(ascii: "["))
        case .slot: break
        }
        frames.append(Frame(kind: kind))
        return frames.count - 1
    }

    /// Marks the slot at `index` as holding a value; false if it already did.
    func fill(_ index: Int) -> Bool {
        defer { frames[index].count += 1 }
        return frames[index].count == 0
    }

    func value<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        if T.self == Data.self, let data = value as? Data {
            string(data.base64EncodedString())
        } else if T.self == URL.self, let url = value as? URL {
            string(url.absoluteString)
        } else if T.self == Decimal.self, let decimal = value as? Decimal {
            bytes.append(contentsOf: decimal.description.utf8)
        } else {
            let slot = open(.slot)
            try value.encode(to: JSONStreamEncoder(writer: self, slot: slot, codingPath: codingPath))
            close(to: slot)
        }
    }

    func null() {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    func bool(_ value: Bool) {
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    func integer<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    func floatingPoint<T: BinaryFloatingPoint & CustomStringConvertible>(_ value: T, codingPath: [any CodingKey]) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: codingPath, debugDescription: "\(value) is not a JSON number"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var runStart = 0
            for (offset, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<offset]))
                escape(byte)
                runStart = offset + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }
    }
}

/// The `Encoder` for one slot of a `JSONStreamWriter`.
struct JSONStreamEncoder: Encoder {
    let writer: JSONStreamWriter
    let slot: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(JSONKeyedContainer<Key>(writer: writer, index: container(.object), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONUnkeyedContainer(writer: writer, index: container(.array), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(writer: writer, slot: slot, codingPath: codingPath)
    }

    /// The slot's container: opened by the first request, the same one for any later request.
    private func container(_ kind: JSONStreamWriter.Kind) -> Int {
        writer.fill(slot) ? writer.open(kind) : slot + 1
    }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let index: Int
    let codingPath: [any CodingKey]

    private func next(_ key: Key) {
        writer.next(in: index, key: key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { next(key); writer.null() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { next(key); writer.bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { next(key); writer.string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { next(key); try writer.floatingPoint(value, codingPath: codingPath + [key]) }
    mutating func encode(_ value: Float, forKey key: Key) throws { next(key); try writer.floatingPoint(value, codingPath: codingPath + [key]) }
    mutating func encode(_ value: Int, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { next(key); writer.integer(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { next(key); writer.integer(value) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        next(key)
        try writer.value(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        next(key)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, index: writer.open(.object), codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        next(key)
        return JSONUnkeyedContainer(writer: writer, index: writer.open(.array), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        writer.next(in: index, key: "super")
        return JSONStreamEncoder(writer: writer, slot: writer.open(.slot), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        next(key)
        return JSONStreamEncoder(writer: writer, slot: writer.open(.slot), codingPath: codingPath + [key])
    }
}

struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONStreamWriter
    let index: Int
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(writer: JSONStreamWriter, index: Int, codingPath: [any CodingKey]) {
        self.writer = writer
        self.index = index
        self.codingPath = codingPath
    }

    private mutating func next() {
        writer.next(in: index, key: nil)
        count += 1
    }

    private var elementPath: [any CodingKey] { codingPath + [JSONIndexKey(intValue: count - 1)] }

    mutating func encodeNil() throws { next(); writer.null() }
    mutating func encode(_ value: Bool) throws { next(); writer.bool(value) }
    mutating func encode(_ value: String) throws { next(); writer.string(value) }
    mutating func encode(_ value: Double) throws { next(); try writer.floatingPoint(value, codingPath: elementPath) }
    mutating func encode(_ value: Float) throws { next(); try writer.floatingPoint(value, codingPath: elementPath) }
    mutating func encode(_ value: Int) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int8) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int16) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int32) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int64) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt8) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt16) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt32) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt64) throws { next(); writer.integer(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        next()
        try writer.value(value, codingPath: elementPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next()
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, index: writer.open(.object), codingPath: elementPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        next()
        return JSONUnkeyedContainer(writer: writer, index: writer.open(.array), codingPath: elementPath)
    }

    mutating func superEncoder() -> any Encoder {
        next()
        return JSONStreamEncoder(writer: writer, slot: writer.open(.slot), codingPath: elementPath)
    }
}

struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONStreamWriter
    let slot: Int
    let codingPath: [any CodingKey]

    /// A second value in one slot would make invalid JSON.
    private func fill() throws {
        guard writer.fill(slot) else {
            throw EncodingError.invalidValue((), EncodingError.Context(codingPath: codingPath, debugDescription: "a single value container was written twice"))
        }
    }

    mutating func encodeNil() throws { try fill(); writer.null() }
    mutating func encode(_ value: Bool) throws { try fill(); writer.bool(value) }
    mutating func encode(_ value: String) throws { try fill(); writer.string(value) }
    mutating func encode(_ value: Double) throws { try fill(); try writer.floatingPoint(value, codingPath: codingPath) }
    mutating func encode(_ value: Float) throws { try fill(); try writer.floatingPoint(value, codingPath: codingPath) }
    mutating func encode(_ value: Int) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: Int8) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: Int16) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: Int32) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: Int64) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: UInt) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: UInt8) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: UInt16) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: UInt32) throws { try fill(); writer.integer(value) }
    mutating func encode(_ value: UInt64) throws { try fill(); writer.integer(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try fill()
        try writer.value(value, codingPath: codingPath)
    }
}

/// An array element's place in a coding path.
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }

    init(intValue: Int) {
        self.intValue = intValue
    }

    init?(stringValue: String) {
        return nil
    }
}
