/// `X-Request-Id`: the caller's when sane, else a new random one.
enum RequestID {
    static func accept(_ offered: String?) -> String {
        if let offered, isSane(offered) { return offered }
        return generate()
    }

    /// 1 to 128 characters of letters, digits and `-_.:` — safe in logs and headers.
    static func isSane(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: ":"):
                true
            default: false
            }
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let a = rng.next() as UInt64
        let b = rng.next() as UInt64
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for i in 0..<16 {
                buffer[i] = hex[Int((a >> (60 - UInt64(i) * 4)) & 0xF)]
                buffer[16 + i] = hex[Int((b >> (60 - UInt64(i) * 4)) & 0xF)]
            }
            return 32
        }
    }
}
