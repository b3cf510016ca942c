import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A parsed HTTP/1.1 response as a test reads it.
public struct RawResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object.
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

public struct RawClientError: Error, CustomStringConvertible {
    public let description: String
}

/// A blocking TCP client for tests that must send exact bytes (malformed requests, stalls,
/// pipelining). Every blocking call runs on a thread pool, never on the cooperative pool.
public final class RawHTTPClient: @unchecked Sendable {
    // Used from one test task at a time; the fd and buffer are never shared across tasks.
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let pool = RawHTTPClient.blockingPool

    /// Every client's blocking calls: enough threads that tests running side by side never
    /// queue behind each other's receive timeouts (NIO's singleton pool has one per core).
    private static let blockingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 64)
        pool.start()
        return pool
    }()

    public init(port: Int, receiveTimeout: Double = 10) async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawClientError(description: "socket failed") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int32((receiveTimeout - floor(receiveTimeout)) * 1_000_000).asSuseconds)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let target = address
        let rc = try await pool.runIfActive {
            var address = target
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard rc == 0 else {
            close(fd)
            throw RawClientError(description: "connect to \(port) failed")
        }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Ends the connection now (as a client that goes away does); the descriptor closes on deinit.
    public func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    public func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) async throws {
        let fd = fd
        let sent = try await pool.runIfActive {
            bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        guard sent == bytes.count else { throw RawClientError(description: "send failed: errno \(errno)") }
    }

    /// Sends what the socket takes now without waiting: the count accepted (0 when its buffer is full).
    public func sendWithoutWaiting(_ bytes: ArraySlice<UInt8>) -> Int {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        return max(sent, 0)
    }

    /// Reads more bytes; false on end of stream or reset by the peer, throws on timeout.
    private func fill() async throws -> Bool {
        let fd = fd
        let result: Result<[UInt8], RawClientError> = try await pool.runIfActive {
            var scratch = [UInt8](repeating: 0, count: 65536)
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return .success(Array(scratch.prefix(n))) }
            // A reset is the peer closing too (it had unread bytes of ours when it closed).
            if errno == ECONNRESET { return .success([]) }
            return .failure(RawClientError(description: errno == EAGAIN ? "receive timed out" : "receive failed: errno \(errno)"))
        }
        let chunk = try result.get()
        buffer += chunk
        return !chunk.isEmpty
    }

    /// Reads one whole response (Content-Length, chunked, or until close).
    public func readResponse(isHead: Bool = false) async throws -> RawResponse {
        var headerEnd: Int?
        while true {
            if let range = find([13, 10, 13, 10]) { headerEnd = range; break }
            guard try await fill() else { throw RawClientError(description: "connection closed before a response") }
        }
        let headText = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        buffer.removeFirst(headerEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RawClientError(description: "bad status line") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if isHead || status == 204 || status == 304 || (100..<200).contains(status) {
            // no body
        } else if let length = headers["content-length"].flatMap(Int.init) {
            while buffer.count < length { guard try await fill() else { break } }
            body = Array(buffer.prefix(length))
            buffer.removeFirst(min(length, buffer.count))
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try await readChunked()
        } else {
            while try await fill() {}
            body = buffer
            buffer = []
        }
        return RawResponse(status: status, headers: headers, body: body)
    }

    private func readChunked() async throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var lineEnd = find([13, 10])
            while lineEnd == nil {
                guard try await fill() else { throw RawClientError(description: "closed inside a chunk") }
                lineEnd = find([13, 10])
            }
            let sizeText = String(decoding: buffer[..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw RawClientError(description: "bad chunk size") }
            buffer.removeFirst(lineEnd! + 2)
            while buffer.count < size + 2 { guard try await fill() else { throw RawClientError(description: "closed inside a chunk") } }
            body += buffer.prefix(size)
            buffer.removeFirst(size + 2)
            if size == 0 { return body }
        }
    }

    /// Reads whatever arrives next (e.g. one SSE event) — at least one byte, or [] on close.
    public func readSome() async throws -> [UInt8] {
        if buffer.isEmpty { _ = try await fill() }
        defer { buffer = [] }
        return buffer
    }

    /// True when the server closes the connection (reads hit end of stream) before the receive timeout.
    public func isClosedByPeer() async -> Bool {
        do {
            while try await fill() { buffer = [] }
            return true
        } catch {
            return false
        }
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] {
            if Array(buffer[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }

    /// One request with the usual framing; a convenience over `send` + `readResponse`.
    public func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> RawResponse {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        try await send(text)
        return try await readResponse(isHead: method == "HEAD")
    }

    /// A request with a binary body (an upload), its Content-Length the body's size.
    public func request(_ method: String, _ path: String, headers: [String: String] = [:], bytes: [UInt8]) async throws -> RawResponse {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(bytes.count)\r\n\r\n"
        try await send(Array(text.utf8) + bytes)
        return try await readResponse()
    }
}

extension Int32 {
    fileprivate var asSuseconds: Int { Int(self) }
}
