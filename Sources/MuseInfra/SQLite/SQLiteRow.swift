import Foundation
import MuseCore
import MuseJSON

/// Typed reads of a result row, and the JSON columns' encoding.
extension [SQLiteValue] {
    public func text(_ i: Int) -> String {
        if case .text(let s) = self[i] { return s }
        return ""
    }

    public func optionalText(_ i: Int) -> String? {
        if case .text(let s) = self[i] { return s }
        return nil
    }

    public func int(_ i: Int) -> Int {
        if case .integer(let v) = self[i] { return Int(v) }
        return 0
    }

    public func optionalInt(_ i: Int) -> Int? {
        if case .integer(let v) = self[i] { return Int(v) }
        return nil
    }

    public func double(_ i: Int) -> Double {
        switch self[i] {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return 0
        }
    }

    public func date(_ i: Int) -> Date? {
        if case .integer(let ms) = self[i] { return Date(timeIntervalSince1970: Double(ms) / 1000) }
        return nil
    }
}

enum SQLiteJSON {
    static func encode<T: Encodable>(_ value: T) throws -> SQLiteValue {
        .text(String(decoding: try CompactJSONEncoder().encode(value), as: UTF8.self))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StrictJSONDecoder().decode(type, from: Array(text.utf8))
    }
}

extension Date {
    public var sqliteMillis: SQLiteValue { .integer(Int64((timeIntervalSince1970 * 1000).rounded())) }
}

extension Optional where Wrapped == Date {
    public var sqliteMillis: SQLiteValue { map(\.sqliteMillis) ?? .null }
}
