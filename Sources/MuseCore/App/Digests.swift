/// The MAC and random bytes the core needs (webhook signing); MuseInfra provides them (OpenSSL).
public protocol Digests: Sendable {
    func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8]
    /// Bytes from a cryptographically secure source.
    func randomBytes(_ count: Int) -> [UInt8]
}
