import Foundation

/// One server-sent event as a client sees it.
public struct ReceivedEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String

    /// `data` parsed as a JSON object.
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }
}

/// Reads a `text/event-stream` response event by event over a raw socket, as a browser's
/// EventSource would: the caller may stop (disconnect) after any event.
public final class EventStreamReader: @unchecked Sendable {
    // Owned by one test task.
    private let client: RawHTTPClient
    private var raw: [UInt8] = []
    private var text = ""
    public private(set) var status = 0
    public private(set) var headers: [String: String] = [:]
    /// Comment lines seen so far (keep-alives).
    public private(set) var comments: [String] = []
    public private(set) var ended = false
    private var headerDone = false

    /// Sends `GET path` with `headers` and reads the response head.
    public init(port: Int, path: String, headers: [String: String]) async throws {
        client = try await RawHTTPClient(port: port, receiveTimeout: 20)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try await client.send(request + "\r\n")
        while !headerDone {
            let bytes = try await client.readSome()
            guard !bytes.isEmpty else { throw RawClientError(description: "closed before the response head") }
            raw += bytes
            parse()
        }
    }

    /// Goes away, as a client that closes the page does.
    public func close() {
        client.shutdown()
    }

    /// The next event, or nil once the stream has ended.
    public func next() async throws -> ReceivedEvent? {
        while true {
            if let event = takeEvent() { return event }
            if ended { return nil }
            let bytes = try await client.readSome()
            if bytes.isEmpty {
                ended = true
                continue
            }
            raw += bytes
            parse()
        }
    }

    /// Every remaining event until the stream ends.
    public func rest() async throws -> [ReceivedEvent] {
        var events: [ReceivedEvent] = []
        while let event = try await next() { events.append(event) }
        return events
    }

    /// The non-streamed body of an error answer (problem+json).
    public var errorBody: String { String(decoding: raw, as: UTF8.self) }

    /// Head first, then chunked framing, into `text`.
    private func parse() {
        if !headerDone {
            guard let end = find([13, 10, 13, 10]) else { return }
            var lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            status = Int(lines.removeFirst().split(separator: " ").dropFirst().first ?? "") ?? 0
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            raw.removeFirst(end + 4)
            headerDone = true
            if headers["transfer-encoding"]?.lowercased() != "chunked" { return }
        }
        guard headers["transfer-encoding"]?.lowercased() == "chunked" else { return }
        while let lineEnd = find([13, 10]) {
            guard let size = Int(String(decoding: raw[..<lineEnd], as: UTF8.self).trimmingCharacters(in: .whitespaces), radix: 16) else { return }
            guard raw.count >= lineEnd + 2 + size + 2 else { return }
            text += String(decoding: raw[(lineEnd + 2)..<(lineEnd + 2 + size)], as: UTF8.self)
            raw.removeFirst(lineEnd + 2 + size + 2)
            if size == 0 { ended = true }
        }
    }

    private func takeEvent() -> ReceivedEvent? {
        while let range = text.range(of: "\n\n") {
            let block = String(text[..<range.lowerBound])
            text.removeSubrange(..<range.upperBound)
            var event = ReceivedEvent(id: nil, event: nil, data: "")
            var dataLines: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") { comments.append(line.dropFirst().trimmingCharacters(in: .whitespaces)); continue }
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { dataLines.append(String(line.dropFirst(6))) }
            }
            if event.id == nil, event.event == nil, dataLines.isEmpty { continue }
            event.data = dataLines.joined(separator: "\n")
            return event
        }
        return nil
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard raw.count >= pattern.count else { return nil }
        for i in 0...(raw.count - pattern.count) where raw[i] == pattern[0] {
            if Array(raw[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }
}
