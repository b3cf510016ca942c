import Foundation

/// A cloud API key as stored: never the secret, only its SHA-256.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var tenant: String
    /// Lower-case hex SHA-256 of the secret.
    public var secretHash: String
    public var createdAt: Date

    public init(id: String, tenant: String, secretHash: String, createdAt: Date) {
        self.id = id
        self.tenant = tenant
        self.secretHash = secretHash
        self.createdAt = createdAt
    }
}

/// Where API keys live.
public protocol APIKeyStore: Sendable {
    func insert(_ key: APIKeyRecord) async throws
    func key(secretHash: String) async throws -> APIKeyRecord?
}
