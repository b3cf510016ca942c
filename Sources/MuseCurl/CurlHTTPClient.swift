import CCurl
import Foundation
import Synchronization

/// A response read by libcurl.
public struct CurlResponse: Sendable {
    public let status: Int
    public let body: [UInt8]
    /// The response's `Cache-Control` header, if any (a JWKS's refresh time).
    public var cacheControl: String? = nil
}

public struct CurlError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "curl: \(message)" }

    public init(message: String) {
        self.message = message
    }
}

/// Blocking HTTP calls through libcurl's easy interface; callers run it on the `BlockingPool`.
/// Easy handles are kept and reused, so calls to the same worker or server ride on an open
/// keep-alive connection instead of a new TCP handshake each time.
public final class CurlHTTPClient: Sendable {
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    /// Idle handles (with their connection caches); one is taken per call.
    private let idle = Mutex<[Handle]>([])
    private static let maxIdle = 64

    /// An easy handle; only ever used by the one call that took it from `idle`.
    private final class Handle: @unchecked Sendable {
        let curl: UnsafeMutableRawPointer
        init?() {
            guard let curl = curl_easy_init() else { return nil }
            self.curl = curl
        }
        deinit { curl_easy_cleanup(curl) }
    }

    public init() {
        _ = Self.globalInit
    }

    /// What is kept of a response body unless a call asks for more: an answer to a push or a
    /// webhook is a status and a few words; the rest is read and dropped.
    public static let defaultMaxResponseBytes = 16 << 10

    public func get(_ url: String, timeoutMilliseconds: Int = 10_000, maxResponseBytes: Int = defaultMaxResponseBytes) throws -> CurlResponse {
        try perform(url, method: "GET", body: nil, headers: [], timeoutMilliseconds: timeoutMilliseconds, maxResponseBytes: maxResponseBytes)
    }

    /// A JSON POST (or DELETE with `method`), with extra header lines such as `Authorization: …`.
    /// `resolve` pins host names to addresses (`host:port:address`, libcurl's CURLOPT_RESOLVE), so
    /// the address that was checked is the one called.
    public func send(
        _ url: String, method: String = "POST", json: [UInt8]?, headers: [String] = [], timeoutMilliseconds: Int = 10_000, resolve: [String] = [],
        maxResponseBytes: Int = defaultMaxResponseBytes
    ) throws -> CurlResponse {
        try perform(
            url, method: method, body: json, headers: (json == nil ? [] : ["Content-Type: application/json"]) + headers,
            timeoutMilliseconds: timeoutMilliseconds, resolve: resolve, maxResponseBytes: maxResponseBytes
        )
    }

    /// A request with a raw body of `contentType` (an upload).
    public func send(
        _ url: String, method: String, body: [UInt8], contentType: String, headers: [String] = [], timeoutMilliseconds: Int = 10_000,
        maxResponseBytes: Int = defaultMaxResponseBytes
    ) throws -> CurlResponse {
        try perform(
            url, method: method, body: body, headers: ["Content-Type: \(contentType)"] + headers, timeoutMilliseconds: timeoutMilliseconds,
            maxResponseBytes: maxResponseBytes)
    }

    private func perform(
        _ url: String, method: String, body: [UInt8]?, headers: [String], timeoutMilliseconds: Int, resolve: [String] = [], maxResponseBytes: Int
    ) throws -> CurlResponse {
        guard let handle = idle.withLock({ $0.popLast() }) ?? Handle() else { throw CurlError(message: "curl_easy_init failed") }
        let curl = handle.curl
        curl_easy_reset(curl)
        defer { idle.withLock { if $0.count < Self.maxIdle { $0.append(handle) } } }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        if list != nil { muse_curl_setopt_pointer(curl, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list)) }
        var pinned: UnsafeMutablePointer<curl_slist>?
        for entry in resolve { pinned = curl_slist_append(pinned, entry) }
        defer { curl_slist_free_all(pinned) }
        if pinned != nil { muse_curl_setopt_pointer(curl, CURLOPT_RESOLVE, UnsafeMutableRawPointer(pinned)) }
        if method != "GET" { muse_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, method) }
        let payload = body ?? []
        if body != nil {
            muse_curl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, payload.count)
            // The bytes as they are, NULs and all (set after POSTFIELDSIZE, so curl copies that many).
            if payload.isEmpty {
                muse_curl_setopt_string(curl, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                payload.withUnsafeBytes { muse_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
            }
        }
        final class Sink {
            var bytes: [UInt8] = []
            let limit: Int
            init(limit: Int) { self.limit = limit }
        }
        let sink = Sink(limit: maxResponseBytes)
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        muse_curl_setopt_string(curl, CURLOPT_URL, url)
        muse_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        muse_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        // Never a proxy from the environment (the address pinned by `resolve` must be the one
        // called), only http and https, and no redirects (curl's default, kept on purpose).
        muse_curl_setopt_string(curl, CURLOPT_PROXY, "")
        muse_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "http,https")
        muse_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, opaque)
        muse_curl_setopt_write_function(curl) { data, size, count, context in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            // Past the limit the rest is read and dropped; the timeout bounds how long.
            let room = max(0, sink.limit - sink.bytes.count)
            if let data, room > 0 { sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: min(length, room))) }
            return length
        }
        let rc = curl_easy_perform(curl)
        guard rc == CURLE_OK else { throw CurlError(message: String(cString: curl_easy_strerror(rc))) }
        var status = 0
        muse_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        var header: UnsafeMutablePointer<curl_header>?
        let found = curl_easy_header(curl, "Cache-Control", 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK
        return CurlResponse(status: status, body: sink.bytes, cacheControl: found ? header.flatMap { $0.pointee.value.map { String(cString: $0) } } : nil)
    }
}
