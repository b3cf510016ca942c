import Foundation
import NIOCore

/// Formats server-sent events (text/event-stream) onto a streamed body.
public struct ServerSentEventWriter: Sendable {
    let body: ResponseBodyWriter
    /// A write that waits longer (a client that stopped reading) ends the stream.
    let writeTimeout: Duration?

    public init(_ body: ResponseBodyWriter, writeTimeout: Duration? = nil) {
        self.body = body
        self.writeTimeout = writeTimeout
    }

    private func write(_ text: String) async throws {
        try await body.write(ByteBuffer(string: text), timeout: writeTimeout)
    }

    /// Sends one event; multi-line data is split into several `data:` lines as the format requires.
    public func send(event: String? = nil, id: String? = nil, data: String) async throws {
        var text = ""
        if let id { text += "id: \(Self.singleLine(id))\n" }
        if let event { text += "event: \(Self.singleLine(event))\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        text += "\n"
        try await write(text)
    }

    /// A comment line, e.g. a keep-alive that proxies do not time out.
    public func comment(_ text: String) async throws {
        try await write(": \(Self.singleLine(text))\n\n")
    }

    private static func singleLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}

extension Response {
    /// A `text/event-stream` response whose events the closure sends.
    public static func eventStream(
        writeTimeout: Duration? = nil, _ produce: @escaping @Sendable (ServerSentEventWriter) async throws -> Void
    ) -> Response {
        var response = Response(status: .ok)
        response.headerFields[.contentType] = "text/event-stream"
        response.headerFields[.cacheControl] = "no-cache"
        response.body = .stream { writer in try await produce(ServerSentEventWriter(writer, writeTimeout: writeTimeout)) }
        return response
    }
}
