import Foundation

/// The hashes and random bytes the core needs (webhook signing, upload checksums); MuseInfra
/// provides them (OpenSSL).
public protocol Digests: Sendable {
    func sha256(_ data: UnsafeRawBufferPointer) -> [UInt8]
    func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8]
    /// Bytes from a cryptographically secure source.
    func randomBytes(_ count: Int) -> [UInt8]
}

extension Digests {
    public func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { sha256($0) }
    }

    /// SHA-256 as 64 lowercase hex digits, over bytes in place.
    public func sha256Hex(_ data: UnsafeRawBufferPointer) -> String {
        sha256(data).map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 as 64 lowercase hex digits (how uploads and artifacts are named and compared).
    public func sha256Hex(_ data: [UInt8]) -> String {
        sha256(data).map { String(format: "%02x", $0) }.joined()
    }
}
