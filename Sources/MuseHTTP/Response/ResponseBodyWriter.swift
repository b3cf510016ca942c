import NIOCore

/// Writes a streamed body; `write` returns once the bytes are handed to the socket, so a slow
/// reader slows the producer instead of making the server buffer without bound.
public struct ResponseBodyWriter: Sendable {
    let writeChunk: @Sendable (ByteBuffer) async throws -> Void
    let close: @Sendable () -> Void

    public func write(_ buffer: ByteBuffer) async throws {
        try await writeChunk(buffer)
    }

    /// Closes the connection: a write waiting on a client that stopped reading then fails.
    public func abort() {
        close()
    }
}
