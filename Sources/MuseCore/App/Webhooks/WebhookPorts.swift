import Foundation

/// Sends one webhook POST; the status code, or a thrown error (timeout, refused connection).
public protocol WebhookSender: Sendable {
    /// `address` is where `host` must be reached (checked against the target policy).
    func post(url: String, host: String, port: Int, address: [UInt8], headers: [String], body: [UInt8], timeout: Duration) async throws -> Int
}

/// Resolves a host name to its addresses (4 bytes IPv4, 16 bytes IPv6).
public protocol HostResolver: Sendable {
    func addresses(of host: String) async throws -> [[UInt8]]
}
