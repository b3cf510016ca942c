/// `X-Request-Id`: the caller's when sane, else a new random one. One generator per
/// connection, seeded once from the system, so no request pays for a getrandom call.
struct RequestIDGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    mutating func accept(_ offered: String?) -> String {
        if let offered, Self.isSane(offered) { return offered }
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

    /// SplitMix64: ids must be unique and unguessable enough for correlation, not secret.
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    mutating func generate() -> String {
        let a = next()
        let b = next()
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for i in 0..<16 {
                buffer[i] = Self.hex[Int((a >> (60 - UInt64(i) * 4)) & 0xF)]
                buffer[16 + i] = Self.hex[Int((b >> (60 - UInt64(i) * 4)) & 0xF)]
            }
            return 32
        }
    }
}
