/// Where image bytes live (local directory on the embedded default, object storage in the cloud).
public protocol BlobStore: Sendable {
    func put(_ key: String, _ bytes: [UInt8]) async throws
    /// The bytes, or nil if there is no such blob.
    func get(_ key: String) async throws -> [UInt8]?
    /// Removes the blob; removing one that does not exist is not an error.
    func delete(_ key: String) async throws
}
