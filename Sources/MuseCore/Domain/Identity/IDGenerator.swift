import Foundation

/// Opaque, time-ordered ids with a type prefix (`gen_…`): 48 bits of milliseconds then 80
/// random bits in Crockford base32, so ids sort by creation and list pages are stable.
public enum IDGenerator {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    public static func make(_ prefix: String, at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var rng = SystemRandomNumberGenerator()
        let high = rng.next() as UInt64
        let low = UInt16(truncatingIfNeeded: rng.next() as UInt64)
        // 128 bits: time (48) | random (80), written as 26 base32 digits.
        var value = (hi: (millis << 16) | UInt64(low), lo: high)
        var digits = [UInt8](repeating: 0, count: 26)
        for i in stride(from: 25, through: 0, by: -1) {
            digits[i] = alphabet[Int(value.lo & 31)]
            value.lo = (value.lo >> 5) | (value.hi << 59)
            value.hi >>= 5
        }
        return prefix + "_" + String(decoding: digits, as: UTF8.self)
    }

    /// Whether `text` has the shape of an id made here with `prefix`.
    public static func isID(_ text: String, prefix: String) -> Bool {
        let bytes = Array(text.utf8)
        let head = Array((prefix + "_").utf8)
        return bytes.count == head.count + 26 && bytes.starts(with: head) && bytes.dropFirst(head.count).allSatisfy(alphabet.contains)
    }
}
