/// The decoded `?a=b&c=d` of a request target.
public struct QueryParameters: Sendable {
    private var pairs: [(name: String, value: String)] = []

    init(_ raw: Substring) {
        for item in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.percentDecode(parts[0])
            let value = parts.count > 1 ? Self.percentDecode(parts[1]) : ""
            pairs.append((name, value))
        }
    }

    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    public var names: [String] { pairs.map(\.name) }

    static func percentDecode(_ text: Substring) -> String {
        guard text.contains(where: { $0 == "%" || $0 == "+" }) else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
