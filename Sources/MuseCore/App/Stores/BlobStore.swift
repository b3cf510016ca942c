import MuseJSON

/// Where image bytes live (local directory on the embedded default, object storage in the cloud).
public protocol BlobStore: Sendable {
    func put(_ key: String, _ bytes: [UInt8]) async throws
    /// Starts a blob written piece by piece (an upload as it arrives); nothing is under any key
    /// until its `commit`.
    func begin() async throws -> any BlobUpload
    /// The bytes, or nil if there is no such blob.
    func get(_ key: String) async throws -> [UInt8]?
    /// The blob opened for reading in pieces; nil if there is no such blob.
    func open(_ key: String) async throws -> (any BlobReader)?
    /// Runs `body` over the blob's bytes in place (mapped, not copied), off the caller's thread;
    /// nil if there is no such blob.
    func withBytes<T: Sendable>(of key: String, _ body: @escaping @Sendable (UnsafeRawBufferPointer) throws -> T) async throws -> T?
    /// Removes the blob; removing one that does not exist is not an error.
    func delete(_ key: String) async throws
}

extension BlobStore {
    /// Writes `chunks` under `key` as they arrive and returns the size; an empty body is refused
    /// (400), and on any failure nothing is under `key`.
    public func put<Chunks: AsyncSequence>(_ key: String, from chunks: Chunks) async throws -> Int where Chunks.Element == [UInt8] {
        let upload = try await begin()
        do {
            let size = try await upload.write(chunks)
            guard size > 0 else { throw InvalidInput("body", "the body is empty") }
            try await upload.commit(as: key)
            return size
        } catch {
            await upload.discard()
            throw error
        }
    }
}
