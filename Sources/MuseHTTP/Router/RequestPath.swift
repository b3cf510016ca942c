/// A request target's path, parsed once into segments; the router matches these, and a route's
/// group decides who may call it, so no code ever looks at the raw path string for access.
///
/// Only the canonical form is accepted. An empty segment (`//`, a trailing `/`), a `.` or `..`
/// segment (also percent-encoded), an encoded `/`, `\` or NUL, and a raw `\` make the request a
/// 400: such a path has two spellings, and a filter and a router that read them differently is
/// how an access check gets walked past. Segments are matched as sent, never percent-decoded.
public struct RequestPath: Sendable, Equatable {
    public let segments: [Substring]

    /// Why a path was refused; the 400's detail.
    public struct Invalid: Error, Sendable, Equatable {
        public let reason: String
    }

    /// Parses the path part of `target` (the query is ignored).
    public static func parse(_ target: Substring) -> Result<RequestPath, Invalid> {
        let path = target.firstIndex(of: "?").map { target[..<$0] } ?? target
        guard path.first == "/" else { return .failure(Invalid(reason: "the path must start with /")) }
        if path.count == 1 { return .success(RequestPath(segments: [])) }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for segment in segments {
            if let reason = refusal(segment) { return .failure(Invalid(reason: reason)) }
        }
        return .success(RequestPath(segments: segments))
    }

    private static func refusal(_ segment: Substring) -> String? {
        if segment.isEmpty { return "empty path segment (// or a trailing /)" }
        return segment.utf8.withContiguousStorageIfAvailable { refusal(bytes: $0) } ?? refusal(bytes: Array(segment.utf8))
    }

    private static func refusal<Bytes: RandomAccessCollection<UInt8>>(bytes: Bytes) -> String? where Bytes.Index == Int {
        if bytes.contains(UInt8(ascii: "\\")) { return "backslash in the path" }
        if isDotSegment(bytes) { return "dot segment (. or ..) in the path" }
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                let code = (bytes[i + 1], bytes[i + 2] | 0x20)  // the second hex digit, lower-cased
                if code == (UInt8(ascii: "2"), UInt8(ascii: "f")) || code == (UInt8(ascii: "5"), UInt8(ascii: "c"))
                    || code == (UInt8(ascii: "0"), UInt8(ascii: "0"))
                {
                    return "percent-encoded /, \\ or NUL in the path"
                }
            }
            i += 1
        }
        return nil
    }

    /// `.` or `..`, each dot written plainly or as `%2e`.
    private static func isDotSegment<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> Bool where Bytes.Index == Int {
        var dots = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: ".") {
                i += 1
            } else if i + 2 < bytes.count, bytes[i] == UInt8(ascii: "%"), bytes[i + 1] == UInt8(ascii: "2"), bytes[i + 2] | 0x20 == UInt8(ascii: "e") {
                i += 3
            } else {
                return false
            }
            dots += 1
        }
        return dots <= 2
    }
}
