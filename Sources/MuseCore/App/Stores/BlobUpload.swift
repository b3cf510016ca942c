/// A blob being written as its bytes arrive: appended to, checked in place, then committed
/// under a key (durably, before the record that names it) or discarded. One writer at a time.
public protocol BlobUpload: Sendable {
    /// Bytes written so far.
    var size: Int { get }
    func append(_ bytes: [UInt8]) async throws
    /// Runs `body` over every byte written so far, read in place (mapped, not copied), off the
    /// caller's thread: a check of a file of hundreds of MB costs no memory of its own.
    func withBytes<T: Sendable>(_ body: @escaping @Sendable (UnsafeRawBufferPointer) throws -> T) async throws -> T
    /// Puts the bytes under `key` (replacing what was there) once they are on disk.
    func commit(as key: String) async throws
    /// Drops the bytes; after a commit, or a second time, it does nothing.
    func discard() async
}

extension BlobUpload {
    /// Appends every chunk of `chunks` in writes of about `batch` bytes (one disk call each, not
    /// one per network read), then returns the size. Throws what the chunks throw.
    public func write<Chunks: AsyncSequence>(_ chunks: Chunks, batch: Int = 256 << 10) async throws -> Int where Chunks.Element == [UInt8] {
        var pending: [UInt8] = []
        pending.reserveCapacity(batch)
        for try await chunk in chunks {
            pending.append(contentsOf: chunk)
            if pending.count >= batch {
                try await append(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { try await append(pending) }
        return size
    }
}
