/// A stored blob opened for reading: its size first (for `Content-Length`), then its bytes in
/// order, a piece at a time, so that a LoRA of hundreds of MB is never held whole in memory.
public protocol BlobReader: Sendable {
    var size: Int { get }
    /// Passes the bytes to `body` in pieces of at most `chunk` bytes, then closes the blob;
    /// one read per opening.
    func read(chunk: Int, _ body: @escaping @Sendable ([UInt8]) async throws -> Void) async throws
}
