import COpenSSL
import MuseCore

/// SHA-256, HMAC-SHA256 and secure random bytes from OpenSSL.
public enum Digest {
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { sha256($0) }
    }

    /// Over bytes in place (a mapped file of hundreds of MB is not copied).
    public static func sha256(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = out.withUnsafeMutableBufferPointer {
            SHA256(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count, $0.baseAddress)
        }
        return out
    }

    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                _ = out.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &length)
                }
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// Constant-time comparison, for secrets and signatures.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "OpenSSL RAND_bytes failed: no entropy")
        return out
    }

    /// A bearer secret: `prefix` and 48 random hex digits (an API key, a team key).
    public static func newSecret(prefix: String) -> String {
        prefix + hex(randomBytes(24))
    }

    /// What a store keeps of a bearer secret: its SHA-256 in lower-case hex.
    public static func secretHash(_ secret: some StringProtocol) -> String {
        hex(sha256(Array(secret.utf8)))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The core's `Digests` port, by OpenSSL.
public struct OpenSSLDigests: Digests {
    public init() {}

    public func sha256(_ data: UnsafeRawBufferPointer) -> [UInt8] { Digest.sha256(data) }
    public func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] { Digest.hmacSHA256(key: key, message: message) }
    public func randomBytes(_ count: Int) -> [UInt8] { Digest.randomBytes(count) }
}
