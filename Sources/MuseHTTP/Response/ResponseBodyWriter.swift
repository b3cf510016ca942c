import NIOCore

/// Writes a streamed body; `write` returns once the bytes are handed to the socket, so a slow
/// reader slows the producer instead of making the server buffer without bound.
public struct ResponseBodyWriter: Sendable {
    let writeChunk: @Sendable (ByteBuffer) async throws -> Void
    let close: @Sendable () -> Void

    public func write(_ buffer: ByteBuffer) async throws {
        try await writeChunk(buffer)
    }

    /// Writes, or ends the connection when the client takes nothing for `timeout` (a reader that
    /// stopped reading would hold its connection, and what feeds it, for ever).
    public func write(_ buffer: ByteBuffer, timeout: Duration?) async throws {
        guard let timeout else { return try await write(buffer) }
        // Closing the connection fails the stuck write, which ends the stream.
        let timer = Task {
            try await Task.sleep(for: timeout)
            abort()
        }
        defer { timer.cancel() }
        try await write(buffer)
    }

    /// Closes the connection: a write waiting on a client that stopped reading then fails.
    public func abort() {
        close()
    }
}
